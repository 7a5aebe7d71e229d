"""The only code that moves an account's balance: debits at release, refunds, cancellations, credits.

A debit happens in the transaction that claims the messages, under a row lock of the account, and never takes
the balance below zero nor a charge past a spending cap (`caps`, checked under the same lock); the `debited`
flag of a message keeps it from being charged twice or refunded twice.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from campaigns.models import BalanceTransaction, BalanceTransactionKind, Campaign, Message
from campaigns.sending import caps
from campaigns.sending.errors import InsufficientFunds, SendingError, SpendingCapReached
from portal.audit import record
from portal.models import Account, ApiToken

ZERO = Decimal("0")


@dataclass
class Debit:
    """What a claim's charge decided: released (paid), unpaid (the balance ran out), held (a spending cap was
    reached: `hits` are those caps, first one first)."""

    released: list[Message]
    unpaid: list[Message] = field(default_factory=list)
    held: list[Message] = field(default_factory=list)
    hits: list[caps.Limit] = field(default_factory=list)
    held_by: dict[int, caps.Limit] = field(default_factory=dict)


def current_balance(account_id: int) -> Decimal:
    return Account.objects.filter(pk=account_id).values_list("balance", flat=True).get()


def ensure_affordable(account: Account, cost: Decimal, *, count: int = 0, api_token: ApiToken | None = None) -> None:
    """A send the balance cannot pay for is refused as a whole (seed error 6), and so is one of `count` messages
    that would go past a spending cap of the account or of `api_token` (its admins are told when the cap is
    already used up)."""
    if cost > current_balance(account.pk):
        raise InsufficientFunds()
    limit = caps.precheck(account, api_token, count, cost)
    if limit is None:
        return
    if limit.exhausted:
        with transaction.atomic():
            Account.objects.select_for_update(no_key=True).get(pk=account.pk)
            caps.notify_reached(account, limit)
    raise SpendingCapReached(limit.refusal(count, cost))


def debit(account_id: int, campaign: Campaign | None, messages: list[Message]) -> Debit:
    """Charge the not-yet-charged messages in order while the balance lasts and every spending cap that applies
    to them has room (caps checked and usage written under the account's row lock)."""
    to_charge = [m for m in messages if not m.debited]
    if not to_charge:
        return Debit(messages)
    account = Account.objects.select_for_update(no_key=True).get(pk=account_id)
    check = caps.CapCheck.for_batch(account, to_charge, timezone.now())
    affordable, held, total = [], [], ZERO
    for index, message in enumerate(to_charge):
        if total + message.cost > account.balance:
            unpaid = to_charge[index:]
            break
        if not check.admit(message):
            held.append(message)
            continue
        affordable.append(message)
        total += message.cost
    else:
        unpaid = []
    if affordable:
        _charge(account, campaign, affordable, total)
    for limit in check.hits:
        caps.notify_reached(account, limit)
    stopped = {m.pk for m in unpaid} | {m.pk for m in held}
    return Debit([m for m in messages if m.pk not in stopped], unpaid, held, check.hits, check.held_by)


def _charge(account: Account, campaign: Campaign | None, affordable: list[Message], total: Decimal) -> None:
    """Take `total` from the locked account and write one debit row per API token (what the caps count)."""
    updated = Account.objects.filter(pk=account.pk, balance__gte=total).update(balance=F("balance") - total)
    if not updated:
        raise RuntimeError("balance changed under a row lock")
    Message.objects.filter(pk__in=[m.pk for m in affordable]).update(debited=True)
    by_token: dict[int | None, list[Message]] = {}
    for message in affordable:
        message.debited = True
        by_token.setdefault(message.api_token_id, []).append(message)
    balance = account.balance
    for token_id, group in by_token.items():
        amount = sum((m.cost for m in group), ZERO)
        balance -= amount
        BalanceTransaction.objects.create(
            account_id=account.pk,
            kind=BalanceTransactionKind.DEBIT,
            amount=-amount,
            balance_after=balance,
            messages=len(group),
            campaign=campaign,
            api_token_id=token_id,
            note="Messages released to the connector",
        )


def refund(message: Message, note: str) -> None:
    """Give back what a message that will not be delivered was charged (once)."""
    if not message.debited or not message.cost:
        return
    if not Message.objects.filter(pk=message.pk, debited=True).update(debited=False):
        return
    message.debited = False
    move_balance(
        message.account_id,
        message.cost,
        BalanceTransactionKind.REFUND,
        note,
        campaign_id=message.campaign_id,
        messages=1,
    )


def refund_idle_messages(
    account_id: int, queryset, *, campaign_id: int | None = None, note: str = "Campaign cancelled"
) -> Decimal:
    """Refund the charged messages of `queryset` (the idle ones of a cancelled campaign or scheduled send) in one
    balance move."""
    total = queryset.filter(debited=True).aggregate(total=Sum("cost"))["total"] or ZERO
    if total:
        move_balance(account_id, total, BalanceTransactionKind.REFUND, note, campaign_id)
    return total


def move_balance(
    account_id: int,
    amount: Decimal,
    kind: str,
    note: str,
    campaign_id: int | None = None,
    actor=None,
    messages: int = 0,
) -> BalanceTransaction:
    """Add `amount` (negative takes) to the balance and record the movement with the balance after it."""
    Account.objects.filter(pk=account_id).update(balance=F("balance") + amount)
    return BalanceTransaction.objects.create(
        account_id=account_id,
        kind=kind,
        amount=amount,
        balance_after=current_balance(account_id),
        campaign_id=campaign_id,
        note=note[:200],
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        messages=messages,
    )


def add_credits(account: Account, amount: Decimal, *, actor, note: str = "") -> BalanceTransaction:
    """Platform staff add credit to an account; audited."""
    if not getattr(actor, "is_staff", False):
        raise SendingError("Only platform staff can add credits.", code="forbidden")
    if amount <= 0:
        raise SendingError("Credits must be a positive amount.", field="credits", code="invalid")
    with transaction.atomic():
        before = {"balance": str(current_balance(account.pk))}
        entry = move_balance(account.pk, amount, BalanceTransactionKind.CREDIT, note or "Credits added", actor=actor)
        account.refresh_from_db(fields=["balance"])
        record(account, actor, "account.credited", account, before=before, after={"balance": str(account.balance)})
    return entry
