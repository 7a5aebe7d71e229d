"""Services of campaigns and sends: schedule, start, pause, resume, cancel, API sends, credits, statistics.

Each function validates the transition, writes in one transaction, records the audit row and enqueues work on
commit. Callers (views, API views, tasks) only translate `SendingError` into their own answer (409/422 or a
message on the page).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncHour
from django.utils import timezone

from campaigns import dlr_codes
from campaigns.conf import setting
from campaigns.dispatch import (
    OPT_OUT_CONFIRMATION,
    MessageDefaults,
    Reason,
    Rejection,
    build_spec,
    default_connector,
    message_row,
    plan_message,
    prepare_campaign,
    row_value,
    write_messages,
)
from campaigns.models import BalanceTransaction, BalanceTransactionKind, Campaign, Message
from campaigns.rendering import variables_in
from campaigns.states import (
    ENDED_CAMPAIGN_STATES,
    FAILED_MESSAGE_STATES,
    CampaignState,
    MessageState,
    MessageType,
)
from campaigns.variable_mapping import missing_values, with_default_sources
from portal.audit import record
from portal.models import Account


class SendingError(Exception):
    """A send or transition that is not allowed now; `field` names the input at fault when there is one."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "conflict"):
        super().__init__(message)
        self.field = field
        self.code = code


class InsufficientFunds(SendingError):
    def __init__(self, message: str = "Insufficient funds"):
        super().__init__(message, code="insufficient_funds")


def _enqueue(task_name: str, *args) -> None:
    from campaigns import tasks

    transaction.on_commit(lambda: getattr(tasks, task_name).delay(*args))


def _snapshot(campaign: Campaign) -> dict:
    return {"state": campaign.state, "start_at": campaign.start_at.isoformat() if campaign.start_at else None}


# ------------------------------------------------------------------------------------------------- lifecycle


def check_ready(campaign: Campaign) -> None:
    """A campaign may be scheduled only with an approved sender, an approved template or a text, an audience."""
    if not campaign.sender.is_approved:
        raise SendingError(f"Sender {campaign.sender.name} is not approved.", field="sender")
    if campaign.template_id:
        problem = template_problem(campaign.template)
        if problem:
            raise SendingError(problem, field="template")
    elif not campaign.text.strip():
        raise SendingError("Choose a template or write a text.", field="text")
    missing = missing_values(variables_in(campaign.body), campaign.variable_mapping)
    if missing:
        raise SendingError(missing[0], field="variable_mapping")
    audience = campaign.audience or {}
    if not any(audience.get(key) for key in ("groups", "segments", "tags", "numbers")):
        raise SendingError("Choose at least one group, segment, tag or number.", field="audience")


def template_problem(template) -> str | None:
    """Why a template cannot be sent (not approved, blocked), or None when it can."""
    if not template.is_approved:
        return f"Template {template.name} is not approved."
    if template.is_blocked():
        return f"Template {template.name} is blocked (its template id is on the blocked templates list)."
    return None


def check_start_time(start_at: datetime | None, now: datetime) -> None:
    if start_at is None:
        return
    if start_at > now + timedelta(days=setting("SMS_SCHEDULE_MAX_DAYS")):
        raise SendingError(
            f"A send can be scheduled at most {setting('SMS_SCHEDULE_MAX_DAYS')} days ahead.", field="start_at"
        )


def schedule_campaign(campaign: Campaign, *, start_at: datetime | None = None, actor=None) -> Campaign:
    """draft → scheduled; it starts at `start_at`, else the draft's own `start_at`, else now (due-campaigns sweep)."""
    now = timezone.now()
    start_at = start_at or campaign.start_at
    campaign.variable_mapping = with_default_sources(
        campaign.account, variables_in(campaign.body), campaign.variable_mapping
    )
    check_ready(campaign)
    check_start_time(start_at, now)
    with transaction.atomic():
        before = _snapshot(campaign)
        start = start_at if start_at and start_at > now else now
        moved = Campaign.objects.filter(pk=campaign.pk, state=CampaignState.DRAFT).update(
            state=CampaignState.SCHEDULED,
            start_at=start,
            scheduled_at=now,
            state_reason="",
            variable_mapping=campaign.variable_mapping,
            updated_at=now,
        )
        if not moved:
            raise SendingError(f"Only a draft can be scheduled; this campaign is {campaign.state}.")
        campaign.refresh_from_db()
        record(campaign.account, actor, "campaign.scheduled", campaign, before=before, after=_snapshot(campaign))
        if start <= now + timedelta(seconds=5):
            _enqueue("start_campaign", campaign.pk)
    return campaign


def start_campaign(campaign_id: int) -> bool:
    """Claim a due scheduled campaign (or a preparation abandoned by a crashed worker) and prepare it."""
    now = timezone.now()
    stale = now - timedelta(seconds=setting("SMS_PREPARE_LEASE_SECONDS"))
    claimed = (
        Campaign.objects.filter(pk=campaign_id)
        .filter(
            Q(state=CampaignState.SCHEDULED, start_at__lte=now) | Q(state=CampaignState.PREPARING, updated_at__lt=stale)
        )
        .update(state=CampaignState.PREPARING, updated_at=now)
    )
    if not claimed:
        return False
    campaign = Campaign.objects.select_related("account", "sender", "template").get(pk=campaign_id)
    problem = template_problem(campaign.template) if campaign.template_id else None
    if problem:
        Campaign.objects.filter(pk=campaign_id, state=CampaignState.PREPARING).update(
            state=CampaignState.FAILED, state_reason=f"Not started: {problem}"[:200], finished_at=timezone.now()
        )
        return False
    try:
        prepare_campaign(campaign)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the preparation is taken again when its lease expires
    except Exception as exc:
        Campaign.objects.filter(pk=campaign_id, state=CampaignState.PREPARING).update(
            state=CampaignState.FAILED, state_reason=f"Preparation failed: {exc}"[:200], finished_at=timezone.now()
        )
        raise
    _enqueue("dispatch_outbox")
    return True


def due_campaign_ids(now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    stale = now - timedelta(seconds=setting("SMS_PREPARE_LEASE_SECONDS"))
    return list(
        Campaign.objects.filter(
            Q(state=CampaignState.SCHEDULED, start_at__lte=now) | Q(state=CampaignState.PREPARING, updated_at__lt=stale)
        ).values_list("pk", flat=True)
    )


def pause_campaign(campaign: Campaign, *, actor=None) -> Campaign:
    return _transition(campaign, {CampaignState.RUNNING, CampaignState.SCHEDULED}, CampaignState.PAUSED, actor)


def resume_campaign(campaign: Campaign, *, actor=None) -> Campaign:
    campaign = _transition(campaign, {CampaignState.PAUSED}, CampaignState.RUNNING, actor)
    _enqueue("dispatch_outbox")
    return campaign


def _transition(campaign: Campaign, allowed: set[str], target: str, actor) -> Campaign:
    with transaction.atomic():
        before = _snapshot(campaign)
        if target == CampaignState.RUNNING and not campaign.recipients_count:
            target = CampaignState.SCHEDULED
        moved = Campaign.objects.filter(pk=campaign.pk, state__in=allowed).update(
            state=target, state_reason="", updated_at=timezone.now()
        )
        if not moved:
            raise SendingError(f"A {campaign.state} campaign cannot become {target}.")
        campaign.refresh_from_db()
        record(campaign.account, actor, f"campaign.{target}", campaign, before=before, after=_snapshot(campaign))
    return campaign


def cancel_campaign(campaign: Campaign, *, actor=None) -> Campaign:
    """Stop for good. A scheduled campaign can be cancelled only until 5 minutes before it starts."""
    now = timezone.now()
    cutoff = timedelta(minutes=setting("SMS_CANCEL_CUTOFF_MINUTES"))
    if campaign.state == CampaignState.SCHEDULED and campaign.start_at and campaign.start_at - now < cutoff:
        raise SendingError(
            f"A scheduled send can be cancelled until {setting('SMS_CANCEL_CUTOFF_MINUTES')} minutes before it starts."
        )
    with transaction.atomic():
        before = _snapshot(campaign)
        open_states = {
            CampaignState.DRAFT,
            CampaignState.SCHEDULED,
            CampaignState.PREPARING,
            CampaignState.RUNNING,
            CampaignState.PAUSED,
        }
        moved = Campaign.objects.filter(pk=campaign.pk, state__in=open_states).update(
            state=CampaignState.CANCELLED, finished_at=now, updated_at=now
        )
        if not moved:
            raise SendingError(f"A {campaign.state} campaign cannot be cancelled.")
        settle_cancelled(campaign)
        campaign.refresh_from_db()
        record(campaign.account, actor, "campaign.cancelled", campaign, before=before, after=_snapshot(campaign))
    return campaign


def settle_cancelled(campaign: Campaign) -> int:
    """Queued messages of a cancelled campaign that no worker holds become cancelled; paid ones are refunded."""
    now = timezone.now()
    with transaction.atomic():
        idle = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )
        refund = idle.filter(debited=True).aggregate(total=Sum("cost"))["total"] or Decimal("0")
        cancelled = idle.update(
            state=MessageState.CANCELLED, debited=False, done_at=now, claim_token=None, claimed_until=None
        )
        if refund:
            _move_balance(campaign.account_id, refund, BalanceTransactionKind.REFUND, "Campaign cancelled", campaign)
    return cancelled


def settle_all_cancelled() -> int:
    recent = timezone.now() - timedelta(days=1)
    return sum(
        settle_cancelled(campaign)
        for campaign in Campaign.objects.filter(state=CampaignState.CANCELLED, finished_at__gte=recent)
    )


# ---------------------------------------------------------------------------------------------------- money


def _move_balance(account_id: int, amount: Decimal, kind: str, note: str, campaign=None, actor=None, messages=0):
    from django.db.models import F

    Account.objects.filter(pk=account_id).update(balance=F("balance") + amount)
    balance = Account.objects.filter(pk=account_id).values_list("balance", flat=True).get()
    return BalanceTransaction.objects.create(
        account_id=account_id,
        kind=kind,
        amount=amount,
        balance_after=balance,
        campaign=campaign,
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
        before = {"balance": str(Account.objects.get(pk=account.pk).balance)}
        entry = _move_balance(account.pk, amount, BalanceTransactionKind.CREDIT, note or "Credits added", actor=actor)
        account.refresh_from_db(fields=["balance"])
        record(account, actor, "account.credited", account, before=before, after={"balance": str(account.balance)})
    return entry


# ------------------------------------------------------------------------------------------------- API sends


@dataclass
class SendOutcome:
    group_id: uuid.UUID
    accepted: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    cost: Decimal = Decimal("0")


@dataclass
class SendRequest:
    sender: object
    recipients: list[str]
    text: str
    service: str | None = None
    template: object | None = None
    variables: dict | None = None
    message_type: str = MessageType.AUTO
    flash: bool = False
    custom: str = ""
    max_units: int | None = None
    webhook_id: str = ""
    meta: dict = field(default_factory=dict)
    send_at: datetime | None = None
    confirms_opt_out: bool = False  # a reply confirming an opt-out reaches the number that just opted out


def send_messages(account: Account, request: SendRequest, *, actor=None, dry_run: bool = False) -> SendOutcome:
    """Queue one message per valid, not opted-out recipient; report the others with their reason."""
    from contacts.phones import check_msisdn
    from contacts.suppression import suppression_reasons

    now = timezone.now()
    check_start_time(request.send_at, now)
    if not request.sender.is_approved:
        raise SendingError(f"Sender {request.sender.name} is not approved.", field="sender")
    problem = template_problem(request.template) if request.template is not None else None
    if problem:
        raise SendingError(problem, field="template")
    if request.template is not None:
        given = {name: {"default": value} for name, value in (request.variables or {}).items()}
        missing = missing_values(variables_in(request.template.body), given, remedy="give it in `data`")
        if missing:
            raise SendingError(missing[0], field="data")
    spec = build_spec(
        account,
        sender=request.sender,
        body=request.template.body if request.template is not None else request.text,
        template=request.template,
        message_type=request.message_type,
        max_units=request.max_units,
        service=request.service,
    )
    outcome = SendOutcome(group_id=uuid.uuid4())
    numbers: dict[str, str] = {}
    for raw in request.recipients:
        result = check_msisdn(raw, account.default_country)
        if not result.valid:
            outcome.rejected.append(_rejected(raw, Reason.INVALID_NUMBER, result.reason))
        elif result.e164 in numbers.values():
            outcome.rejected.append(_rejected(raw, Reason.DUPLICATE))
        else:
            numbers[raw] = result.e164
    opted_out = {}
    if not request.confirms_opt_out:
        opted_out = suppression_reasons(account, list(numbers.values()), sender=request.sender, product=spec.service)
    drafts = []
    for raw, e164 in numbers.items():
        if e164 in opted_out:
            outcome.rejected.append(_rejected(raw, "suppressed", f"opted out ({opted_out[e164]})"))
            continue
        planned = plan_message(spec, e164, values=request.variables or {})
        if isinstance(planned, Rejection):
            outcome.rejected.append(_rejected(raw, planned.reason, planned.detail))
        else:
            drafts.append(planned)
            outcome.cost += planned.cost
    if dry_run:
        outcome.accepted = [{"number": d.recipient, "parts": d.encoding.parts, "cost": str(d.cost)} for d in drafts]
        return outcome
    if drafts and outcome.cost > Account.objects.filter(pk=account.pk).values_list("balance", flat=True).get():
        raise InsufficientFunds()
    connector = default_connector()
    defaults = MessageDefaults(
        account_id=account.pk,
        campaign_id=None,
        group_id=outcome.group_id,
        sender_id=request.sender.pk,
        sender_name=request.sender.name,
        service=spec.service,
        message_type=spec.message_type,
        flash=request.flash,
        connector_id=connector.pk if connector else None,
        webhook_id=request.webhook_id,
        custom_id=request.custom,
        meta=_message_meta(request),
    )
    release = request.send_at if request.send_at and request.send_at > now else now
    rows = [message_row(draft, release) for draft in drafts]
    with transaction.atomic():
        write_messages(defaults, now, rows)
        if rows:
            record(
                account, actor, "sms.sent", request.sender, after={"group_id": str(outcome.group_id), "n": len(rows)}
            )
            _enqueue("dispatch_outbox")
    outcome.accepted = [
        {
            "number": row_value(row, "recipient"),
            "message_id": str(row_value(row, "uid")),
            "parts": row_value(row, "parts"),
            "cost": str(row_value(row, "cost")),
        }
        for row in rows
    ]
    return outcome


def _message_meta(request: SendRequest) -> dict:
    """The client's meta, with the opt-out confirmation mark only when the send is one (never from a client)."""
    meta = {key: value for key, value in request.meta.items() if key != OPT_OUT_CONFIRMATION}
    if request.confirms_opt_out:
        meta[OPT_OUT_CONFIRMATION] = True
    return meta


def _rejected(number: str, reason: str, detail: str = "") -> dict:
    description = Reason.label(reason)
    return {
        "number": number,
        "reason": reason,
        "code": Reason.CODES.get(reason, ""),
        "message": f"{description}: {detail}" if detail else description,
    }


# ------------------------------------------------------------------------------------------------ statistics


def campaign_stats(campaign: Campaign) -> dict:
    """Counts by state, delivery rate, messages per hour and failures by error code (with descriptions)."""
    messages = Message.objects.filter(campaign=campaign)
    by_state = {
        state: (n, cost or Decimal("0"))
        for state, n, cost in messages.order_by().values_list("state").annotate(n=Count("id"), cost=Sum("cost"))
    }
    counts = {state: by_state.get(state, (0, 0))[0] for state in MessageState.values}
    cost = sum((cost for _, cost in by_state.values()), Decimal("0"))
    total = sum(counts.values())
    finished = counts[MessageState.DELIVERED] + sum(counts[s] for s in FAILED_MESSAGE_STATES)
    hourly = list(
        messages.filter(sent_at__isnull=False)
        .annotate(hour=TruncHour("sent_at"))
        .order_by("hour")
        .values("hour")
        .annotate(n=Count("id"))
    )
    errors = messages.exclude(error_code="").order_by().values("error_code").annotate(n=Count("id")).order_by("-n")
    peak = max((row["n"] for row in hourly), default=0)
    return {
        "state": campaign.state,
        "state_reason": campaign.state_reason,
        "total": total,
        "cost": str(cost),
        "counts": counts,
        "in_flight": counts[MessageState.QUEUED] + counts[MessageState.SENT],
        "failed": sum(counts[s] for s in FAILED_MESSAGE_STATES),
        "delivery_rate": round(100 * counts[MessageState.DELIVERED] / finished, 1) if finished else None,
        "progress": round(100 * (total - counts[MessageState.QUEUED]) / total, 1) if total else 0,
        "hourly": [
            {"hour": row["hour"].isoformat(), "count": row["n"], "height": round(100 * row["n"] / peak) if peak else 0}
            for row in hourly
        ],
        "errors": [
            {"code": row["error_code"], "count": row["n"], "description": dlr_codes.describe(row["error_code"])}
            for row in errors
        ],
        "ended": campaign.state in ENDED_CAMPAIGN_STATES,
    }
