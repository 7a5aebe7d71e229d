"""Spending caps: how many of the messages about to be charged fit under the caps of the account and its tokens.

Each account and each API token may cap what is charged per day and per calendar month, in messages and in
money (`portal.models.SpendingCaps`; empty: no cap). A message counts against the account's caps and against
the caps of the token that sent it (`Message.api_token`: the API send's token, or the token that created the
campaign).

Source of truth: the debit rows of the balance ledger (`BalanceTransaction`, kind `debit`: `messages` and
`-amount` per charged batch and token), read through partial covering indexes on (account, created_at) and
(api_token, created_at). Usage is what was charged: a later refund does not give the room back, so a cap bounds
what is released to connectors. A day starts at 00:00 and a month on the 1st at 00:00 in the account's time zone
(`Account.time_zone`).

`billing.debit` asks `CapCheck` inside the claiming transaction, under the account's row lock, and writes its
debit rows under the same lock: concurrent workers take turns and never charge past a cap. `precheck` answers
an API send or quote before anything is queued, without the lock (release time is what guarantees the cap).
"""

import zoneinfo
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.urls import reverse
from django.utils import timezone

from campaigns.models import BalanceTransaction, BalanceTransactionKind, Message
from portal.audit import record
from portal.models import Account, ApiToken, AuditEvent
from portal.notify import notify_admins

ZERO = Decimal("0")
REACHED_VERB = "spending_cap.reached"
CAP_REACHED_DLR_CODE = "463"  # seed: THROTTLED "Maximum Sent Limit is Reached"


@dataclass(frozen=True)
class CapKind:
    field: str
    period: str  # "day" | "month"
    money: bool

    @property
    def label(self) -> str:
        return f"{'Daily' if self.period == 'day' else 'Monthly'} {'spend' if self.money else 'message'} cap"


CAP_KINDS = (
    CapKind("daily_message_cap", "day", money=False),
    CapKind("monthly_message_cap", "month", money=False),
    CapKind("daily_spend_cap", "day", money=True),
    CapKind("monthly_spend_cap", "month", money=True),
)


@dataclass(frozen=True)
class Periods:
    """The current day and month of an account: their starts and when each resets, in the account's zone."""

    day_start: datetime
    day_end: datetime
    month_start: datetime
    month_end: datetime

    @classmethod
    def of(cls, account: Account, now: datetime) -> "Periods":
        local = now.astimezone(zoneinfo.ZoneInfo(account.time_zone))
        day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
        month_start = day_start.replace(day=1)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        # wall-clock arithmetic (aware datetimes of one zone): a day with a DST change is 23 or 25 hours long
        return cls(day_start, day_start + timedelta(days=1), month_start, next_month)

    def start(self, period: str) -> datetime:
        return self.day_start if period == "day" else self.month_start

    def end(self, period: str) -> datetime:
        return self.day_end if period == "day" else self.month_end


@dataclass
class Limit:
    """One cap that is set, with what was charged under it in the current period and this batch so far."""

    holder: Account | ApiToken
    kind: CapKind
    cap: Decimal
    used: Decimal
    period_start: datetime
    resets_at: datetime
    currency: str
    closed: bool = False  # a message was refused: later ones of this batch are refused too (order is kept)

    def fits(self, count: int, cost: Decimal) -> bool:
        return self.used + (cost if self.kind.money else count) <= self.cap

    def add(self, count: int, cost: Decimal) -> None:
        self.used += cost if self.kind.money else count

    @property
    def label(self) -> str:
        if isinstance(self.holder, ApiToken):
            return f"API token “{self.holder.name}”: {self.kind.label.lower()}"
        return self.kind.label

    @property
    def exhausted(self) -> bool:
        return self.used >= self.cap

    def _shown(self, amount: Decimal) -> str:
        return f"{amount.normalize():f} {self.currency}" if self.kind.money else f"{int(amount):,}"

    def _resumes(self) -> str:
        return f"sending resumes after it resets at {self._reset} or when an account admin raises it"

    @property
    def _reset(self) -> str:
        return f"{self.resets_at:%Y-%m-%d %H:%M} ({self.resets_at.tzinfo})"

    def message(self) -> str:
        """Which cap, its value, when it resets, who can raise it (an API message's error, the admins' notice)."""
        return f"{self.label} of {self._shown(self.cap)} reached; {self._resumes()}."[:300]

    def pause_reason(self) -> str:
        """A paused campaign's reason: it waits for someone to resume it (fits `Campaign.state_reason`)."""
        return (
            f"{self.label} of {self._shown(self.cap)} reached; resume the campaign after it resets at "
            f"{self._reset} or once an account admin raises it."
        )[:200]

    def refusal(self, count: int, cost: Decimal) -> str:
        """Why a send of `count` messages costing `cost` is refused up front."""
        needs = self._shown(cost if self.kind.money else Decimal(count))
        period = "today" if self.kind.period == "day" else "this month"
        return (
            f"{self.label} of {self._shown(self.cap)} reached: {self._shown(self.used)} charged {period} and "
            f"this send needs {needs}; {self._resumes()}."
        )


def _usage(queryset, periods: Periods) -> dict[str, Decimal]:
    """Messages and money charged today and this month by one holder's debit rows (one indexed query)."""
    today = Q(created_at__gte=periods.day_start)
    totals = queryset.filter(kind=BalanceTransactionKind.DEBIT, created_at__gte=periods.month_start).aggregate(
        day_messages=Sum("messages", filter=today),
        day_money=Sum("amount", filter=today),
        month_messages=Sum("messages"),
        month_money=Sum("amount"),
    )
    return {
        "day": (Decimal(totals["day_messages"] or 0), -(totals["day_money"] or ZERO)),
        "month": (Decimal(totals["month_messages"] or 0), -(totals["month_money"] or ZERO)),
    }


def _debits_of(holder: Account | ApiToken, account: Account):
    rows = BalanceTransaction.objects.filter(account=account)
    return rows.filter(api_token=holder) if isinstance(holder, ApiToken) else rows


def _has_caps(holder) -> bool:
    return any(getattr(holder, kind.field) is not None for kind in CAP_KINDS)


def limits_of(holder: Account | ApiToken, account: Account, periods: Periods) -> list[Limit]:
    """The caps set on `holder` (the account or one of its tokens) with their usage; none set: no query."""
    if not _has_caps(holder):
        return []
    usage = _usage(_debits_of(holder, account), periods)
    limits = []
    for kind in CAP_KINDS:
        cap = getattr(holder, kind.field)
        if cap is None:
            continue
        messages, money = usage[kind.period]
        limits.append(
            Limit(
                holder,
                kind,
                Decimal(cap),
                money if kind.money else messages,
                periods.start(kind.period),
                periods.end(kind.period),
                account.currency,
            )
        )
    return limits


def summary(holder: Account | ApiToken, account: Account, now: datetime | None = None) -> dict:
    """Each cap of `holder` (None: no cap) with what was charged in its current period and when that resets."""
    periods = Periods.of(account, now or timezone.now())
    usage = _usage(_debits_of(holder, account), periods)
    answer = {}
    for kind in CAP_KINDS:
        messages, money = usage[kind.period]
        answer[kind.field] = {
            "cap": getattr(holder, kind.field),
            "used": money if kind.money else int(messages),
            "resets_at": periods.end(kind.period),
        }
    return answer


@dataclass
class CapCheck:
    """The caps that apply to one batch: the account's and those of the batch's tokens."""

    account: Account
    periods: Periods
    account_limits: list[Limit]
    token_limits: dict[int, list[Limit]] = field(default_factory=dict)
    hits: list[Limit] = field(default_factory=list)
    held_by: dict[int, Limit] = field(default_factory=dict)  # message id → the cap that held it back

    @classmethod
    def for_batch(cls, account: Account, messages: list[Message], now: datetime) -> "CapCheck":
        """Call with the account row locked; reads the caps of the account and of the batch's tokens."""
        periods = Periods.of(account, now)
        check = cls(account, periods, limits_of(account, account, periods))
        token_ids = {m.api_token_id for m in messages if m.api_token_id}
        for token in ApiToken.objects.filter(pk__in=token_ids, account=account):
            check.token_limits[token.pk] = limits_of(token, account, periods)
        return check

    def _limits(self, token_id: int | None) -> list[Limit]:
        return self.account_limits + (self.token_limits.get(token_id, []) if token_id else [])

    def admit(self, message: Message) -> bool:
        """True (and counted) when the message fits every cap that applies to it; else the cap is noted."""
        limits = self._limits(message.api_token_id)
        blocking = next((lim for lim in limits if lim.closed or not lim.fits(1, message.cost)), None)
        if blocking is not None:
            if not blocking.closed:
                blocking.closed = True
                self.hits.append(blocking)
            self.held_by[message.pk] = blocking
            return False
        for limit in limits:
            limit.add(1, message.cost)
        return True


def precheck(account: Account, api_token: ApiToken | None, count: int, cost: Decimal) -> Limit | None:
    """The first cap a send of `count` messages costing `cost` would exceed, counting what was already charged
    in the period (a quote or an API send asks before queueing); None when it fits."""
    periods = Periods.of(account, timezone.now())
    limits = limits_of(account, account, periods)
    if api_token is not None:
        limits += limits_of(api_token, account, periods)
    return next((limit for limit in limits if not limit.fits(count, cost)), None)


def notify_reached(account: Account, limit: Limit) -> bool:
    """Tell the account's admins that a cap was reached, once per cap, value and period (audited as
    `spending_cap.reached`); call under the account row lock so two workers do not both write it."""
    start = limit.period_start
    after = {"cap": limit.kind.field, "limit": str(limit.cap), "period_start": start.isoformat()}
    earlier = AuditEvent.objects.filter(
        account=account,
        verb=REACHED_VERB,
        object_type=limit.holder._meta.label_lower,
        object_id=str(limit.holder.uid),
        at__gte=start,
    ).values_list("after", flat=True)
    if any((row or {}).get("cap") == after["cap"] and (row or {}).get("limit") == after["limit"] for row in earlier):
        return False
    record(account, None, REACHED_VERB, limit.holder, after=after)
    notify_admins(account, limit.message(), link=reverse("portal:account_settings"), level="warning")
    return True
