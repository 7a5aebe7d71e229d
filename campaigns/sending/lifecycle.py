"""A campaign's life: schedule, start (prepare), pause, resume, cancel, completion.

Each transition is validated here, written in one transaction with its audit row, and asks for background work
after commit. A start time must be in the future (up to `SMS_SCHEDULE_MAX_DAYS` ahead); sending now is an
explicit choice (`send_now=True`), never what a past time silently becomes.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from campaigns.conf import setting
from campaigns.links import LinkOptions, check_link_options
from campaigns.models import Campaign, Message
from campaigns.rendering import required_variables, variables_in
from campaigns.sending import billing, work
from campaigns.sending.errors import INSUFFICIENT_FUNDS, SendingError
from campaigns.sending.preparation import prepare_campaign
from campaigns.states import CampaignState, MessageState
from campaigns.variable_mapping import missing_values, with_default_sources
from campaigns.variables import first_malformed_variable
from contacts.recipients import is_empty
from portal.audit import record

OPEN_STATES = frozenset(
    {CampaignState.DRAFT, CampaignState.SCHEDULED, CampaignState.PREPARING, CampaignState.RUNNING, CampaignState.PAUSED}
)


def _snapshot(campaign: Campaign) -> dict:
    return {"state": campaign.state, "start_at": campaign.start_at.isoformat() if campaign.start_at else None}


def template_problem(template) -> str | None:
    """Why a template cannot be sent (not approved, blocked), or None when it can."""
    if not template.is_approved:
        return f"Template {template.name} is not approved."
    if template.is_blocked():
        return f"Template {template.name} is blocked (its template id is on the blocked templates list)."
    return None


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
    else:
        check_free_text(campaign.text, field="text")
    missing = missing_values(required_variables(campaign.body), campaign.variable_mapping)
    if missing:
        raise SendingError(missing[0], field="variable_mapping")
    check_link_options(campaign.body, LinkOptions(campaign.track_links, campaign.smart_link_url))
    if is_empty(campaign.audience):
        raise SendingError("Choose at least one group, segment, tag or number.", field="audience")


def check_free_text(text: str, *, field: str) -> None:
    """A free text (no template) with a malformed variable such as `{{ name }}` is refused, as the template
    rules refuse it: it would go out with the braces in it."""
    problem = first_malformed_variable(text)
    if problem:
        raise SendingError(problem, field=field, code="invalid")


def check_start_time(start_at: datetime | None, now: datetime, *, field: str = "start_at") -> None:
    """A start time is in the future (a minute's grace for the time a form takes) and at most the maximum ahead."""
    if start_at is None:
        return
    if start_at < now - timedelta(seconds=setting("SMS_SCHEDULE_PAST_GRACE_SECONDS")):
        shown = date_format(timezone.localtime(start_at), "Y-m-d H:i T")
        raise SendingError(
            f"The start time {shown} is in the past: choose a time in the future, or send now.",
            field=field,
            code="invalid",
        )
    if start_at > now + timedelta(days=setting("SMS_SCHEDULE_MAX_DAYS")):
        raise SendingError(
            f"A send can be scheduled at most {setting('SMS_SCHEDULE_MAX_DAYS')} days ahead.", field=field
        )


def schedule_campaign(
    campaign: Campaign,
    *,
    start_at: datetime | None = None,
    send_now: bool = False,
    actor=None,
    time_field: str = "start_at",
) -> Campaign:
    """draft → scheduled, to start at `start_at` (else the draft's own start time), or now with `send_now`.
    A draft with no start time at all starts now (that is what scheduling it without one asks for).
    `time_field` names the caller's input for the start time in a refusal. The state is checked, and the
    campaign validated, on its locked row: of two concurrent calls one schedules, the other is refused naming
    the state the first one left."""
    now = timezone.now()
    with transaction.atomic():
        current = _lock(campaign)
        if current.state != CampaignState.DRAFT:
            raise SendingError(f"Only a draft can be scheduled; this campaign is {current.state}.")
        start_at = None if send_now else (start_at or current.start_at)
        current.variable_mapping = with_default_sources(
            current.account, variables_in(current.body), current.variable_mapping
        )
        check_ready(current)
        check_start_time(start_at, now, field=time_field)
        start = start_at if start_at and start_at > now else now
        before = _snapshot(current)
        Campaign.objects.filter(pk=campaign.pk).update(
            state=CampaignState.SCHEDULED,
            start_at=start,
            scheduled_at=now,
            state_reason="",
            variable_mapping=current.variable_mapping,
            updated_at=now,
        )
        campaign.refresh_from_db()
        record(campaign.account, actor, "campaign.scheduled", campaign, before=before, after=_snapshot(campaign))
        if start <= now + timedelta(seconds=5):
            work.start_campaign_soon(campaign.pk)
    return campaign


def _lock(campaign: Campaign) -> Campaign:
    """The campaign's row as it is now, locked until the transaction ends, so a state check on it cannot be
    overtaken by a concurrent transition (FOR NO KEY UPDATE: message inserts referencing it are not blocked)."""
    return (
        Campaign.objects.select_for_update(no_key=True, of=("self",))
        .select_related("account", "sender", "template")
        .get(pk=campaign.pk)
    )


def _due_or_abandoned(now: datetime) -> Q:
    stale = now - timedelta(seconds=setting("SMS_PREPARE_LEASE_SECONDS"))
    return Q(state=CampaignState.SCHEDULED, start_at__lte=now) | Q(state=CampaignState.PREPARING, updated_at__lt=stale)


def start_campaign(campaign_id: int) -> bool:
    """Claim a due scheduled campaign (or a preparation abandoned by a crashed worker) and prepare it."""
    now = timezone.now()
    claimed = (
        Campaign.objects.filter(pk=campaign_id)
        .filter(_due_or_abandoned(now))
        .update(state=CampaignState.PREPARING, updated_at=now)
    )
    if not claimed:
        return False
    campaign = Campaign.objects.select_related("account", "sender", "template").get(pk=campaign_id)
    problem = template_problem(campaign.template) if campaign.template_id else None
    if problem:
        _fail_preparation(campaign_id, f"Not started: {problem}")
        return False
    try:
        prepare_campaign(campaign)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the preparation is taken again when its lease expires
    except Exception as exc:
        _fail_preparation(campaign_id, f"Preparation failed: {exc}")
        raise
    work.dispatch_soon()
    return True


def _fail_preparation(campaign_id: int, reason: str) -> None:
    Campaign.objects.filter(pk=campaign_id, state=CampaignState.PREPARING).update(
        state=CampaignState.FAILED, state_reason=reason[:200], finished_at=timezone.now()
    )


def due_campaign_ids(now: datetime | None = None) -> list[int]:
    return list(Campaign.objects.filter(_due_or_abandoned(now or timezone.now())).values_list("pk", flat=True))


def pause_campaign(campaign: Campaign, *, actor=None) -> Campaign:
    return _transition(campaign, {CampaignState.RUNNING, CampaignState.SCHEDULED}, CampaignState.PAUSED, actor)


def resume_campaign(campaign: Campaign, *, actor=None) -> Campaign:
    campaign = _transition(campaign, {CampaignState.PAUSED}, CampaignState.RUNNING, actor)
    work.dispatch_soon()
    return campaign


def pause_for_funds(campaign: Campaign, now: datetime) -> None:
    """The balance cannot pay for the next messages: a running campaign pauses with seed error 6."""
    Campaign.objects.filter(pk=campaign.pk, state=CampaignState.RUNNING).update(
        state=CampaignState.PAUSED, state_reason=INSUFFICIENT_FUNDS, updated_at=now
    )
    campaign.state = CampaignState.PAUSED


def pause_for_cap(campaign: Campaign, reason: str, now: datetime) -> None:
    """A spending cap leaves no room for the next messages: a running campaign pauses, saying which cap and when
    it resets; resuming it after the reset (or once an admin raised the cap) continues where it stopped."""
    Campaign.objects.filter(pk=campaign.pk, state=CampaignState.RUNNING).update(
        state=CampaignState.PAUSED, state_reason=reason[:200], updated_at=now
    )
    campaign.state = CampaignState.PAUSED


def _transition(campaign: Campaign, allowed: set[str], target: str, actor) -> Campaign:
    with transaction.atomic():
        current = _lock(campaign)
        before = _snapshot(current)
        if target == CampaignState.RUNNING and not current.recipients_count:
            target = CampaignState.SCHEDULED
        if current.state not in allowed:
            raise SendingError(f"A {current.state} campaign cannot become {target}.")
        Campaign.objects.filter(pk=campaign.pk).update(state=target, state_reason="", updated_at=timezone.now())
        campaign.refresh_from_db()
        record(campaign.account, actor, f"campaign.{target}", campaign, before=before, after=_snapshot(campaign))
    return campaign


def cancel_campaign(campaign: Campaign, *, actor=None) -> Campaign:
    """Stop for good. A scheduled campaign can be cancelled only until 5 minutes before it starts."""
    now = timezone.now()
    with transaction.atomic():
        current = _lock(campaign)
        if current.state not in OPEN_STATES:
            raise SendingError(f"A {current.state} campaign cannot be cancelled.")
        if current.state == CampaignState.SCHEDULED:
            check_cancel_cutoff(current.start_at, now)
        before = _snapshot(current)
        Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.CANCELLED, finished_at=now, updated_at=now)
        settle_cancelled(campaign)
        campaign.refresh_from_db()
        record(campaign.account, actor, "campaign.cancelled", campaign, before=before, after=_snapshot(campaign))
    return campaign


def cancel_deadline(start_at: datetime) -> datetime:
    """Until when a send scheduled for `start_at` can be cancelled (`SMS_CANCEL_CUTOFF_MINUTES` before it)."""
    return start_at - timedelta(minutes=setting("SMS_CANCEL_CUTOFF_MINUTES"))


def check_cancel_cutoff(start_at: datetime | None, now: datetime) -> None:
    """A scheduled send (a campaign or an API send) can be cancelled only until the cutoff before it starts."""
    if start_at and now > cancel_deadline(start_at):
        raise SendingError(
            f"A scheduled send can be cancelled until {setting('SMS_CANCEL_CUTOFF_MINUTES')} minutes before it starts."
        )


def cancel_idle_messages(
    messages, account_id: int, *, campaign_id: int | None = None, note: str = "Campaign cancelled", now=None
) -> tuple[int, Decimal]:
    """Queued messages of `messages` that no worker holds become cancelled (`done_at` = `now`); the paid ones are
    refunded in one balance move. (messages cancelled, amount refunded)"""
    now = now or timezone.now()
    with transaction.atomic():
        idle = messages.filter(state=MessageState.QUEUED).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
        )
        refunded = billing.refund_idle_messages(account_id, idle, campaign_id=campaign_id, note=note)
        cancelled = idle.update(
            state=MessageState.CANCELLED, debited=False, done_at=now, claim_token=None, claimed_until=None
        )
    return cancelled, refunded


def settle_cancelled(campaign: Campaign) -> int:
    """Queued messages of a cancelled campaign that no worker holds become cancelled; paid ones are refunded."""
    cancelled, _ = cancel_idle_messages(
        Message.objects.filter(campaign=campaign), campaign.account_id, campaign_id=campaign.pk
    )
    return cancelled


def settle_all_cancelled() -> int:
    recent = timezone.now() - timedelta(days=1)
    return sum(
        settle_cancelled(campaign)
        for campaign in Campaign.objects.filter(state=CampaignState.CANCELLED, finished_at__gte=recent)
    )


def finish_campaigns() -> int:
    """Running campaigns with nothing left in the outbox become completed."""
    finished = 0
    for campaign in Campaign.objects.filter(state=CampaignState.RUNNING).only("pk"):
        if not Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).exists():
            finished += Campaign.objects.filter(pk=campaign.pk, state=CampaignState.RUNNING).update(
                state=CampaignState.COMPLETED, finished_at=timezone.now(), updated_at=timezone.now()
            )
    return finished
