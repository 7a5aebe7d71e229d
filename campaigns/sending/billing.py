"""The only code that moves an account's balance: debits at release, refunds, cancellations, credits.

A debit happens in the transaction that claims the messages, under a row lock of the account, and never takes
the balance below zero; the `debited` flag of a message keeps it from being charged twice or refunded twice.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import F, Sum

from campaigns.models import BalanceTransaction, BalanceTransactionKind, Campaign, Message
from campaigns.sending.errors import InsufficientFunds, SendingError
from portal.audit import record
from portal.models import Account

ZERO = Decimal("0")


def current_balance(account_id: int) -> Decimal:
    return Account.objects.filter(pk=account_id).values_list("balance", flat=True).get()


def ensure_affordable(account: Account, cost: Decimal) -> None:
    """A send the balance cannot pay for is refused as a whole (seed error 6)."""
    if cost > current_balance(account.pk):
        raise InsufficientFunds()


def debit(account_id: int, campaign: Campaign | None, messages: list[Message]) -> tuple[list[Message], list[Message]]:
    """Charge the not-yet-charged messages in order while the balance lasts: (released, unpaid)."""
    to_charge = [m for m in messages if not m.debited]
    if not to_charge:
        return messages, []
    account = Account.objects.select_for_update(no_key=True).get(pk=account_id)
    affordable, total = [], ZERO
    for message in to_charge:
        if total + message.cost > account.balance:
            break
        affordable.append(message)
        total += message.cost
    unpaid = to_charge[len(affordable) :]
    if affordable:
        updated = Account.objects.filter(pk=account_id, balance__gte=total).update(balance=F("balance") - total)
        if not updated:
            raise RuntimeError("balance changed under a row lock")
        Message.objects.filter(pk__in=[m.pk for m in affordable]).update(debited=True)
        for message in affordable:
            message.debited = True
        BalanceTransaction.objects.create(
            account_id=account_id,
            kind=BalanceTransactionKind.DEBIT,
            amount=-total,
            balance_after=account.balance - total,
            messages=len(affordable),
            campaign=campaign,
            note="Messages released to the connector",
        )
    unpaid_ids = {m.pk for m in unpaid}
    return [m for m in messages if m.pk not in unpaid_ids], unpaid


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


def refund_idle_messages(campaign: Campaign, queryset) -> Decimal:
    """Refund the charged messages of `queryset` (a cancelled campaign's idle ones) in one balance move."""
    total = queryset.filter(debited=True).aggregate(total=Sum("cost"))["total"] or ZERO
    if total:
        move_balance(campaign.account_id, total, BalanceTransactionKind.REFUND, "Campaign cancelled", campaign.pk)
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
