"""Smart Delivery (seed "Smart Delivery"): a campaign goes to a test batch first, and the rest follows only when the
test batch was not refused by DLT.

- Preparation writes every message of a Smart Delivery campaign held (`timing.first_release`: a year ahead, batch
  spacing kept), its test numbers among the recipients (`Campaign.sending_audience`).
- `start_test_batch` picks the test batch once the campaign runs: the messages to its test numbers, else
  `smart_test_size` messages at random; they may leave now. Their ids are kept (`smart_test_ids`).
- `judge` runs `smart_wait_minutes` after the last test message left the outbox (sent, or refused at submit):
  the share of the test batch whose code is one of `dlr_codes.DLT_REJECTION_CODES` (452, 783, …) is compared
  with `smart_max_reject_percent`; a message still without a final report counts as not rejected. At or under
  it, the rest is released (moved back to now, its batch spacing kept); above it, the campaign is cancelled
  through `lifecycle.cancel_campaign` (the rest was never charged; whatever was is refunded as for any
  cancelled campaign) and its author and the account's admins are notified.
- `sweep` (beat) does both for every campaign that is due.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Max, Min
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from campaigns.dlr_codes import DLT_REJECTION_CODES
from campaigns.models import Campaign, Message
from campaigns.models.campaigns import SMART_TEST_NUMBERS_MAX
from campaigns.sending import lifecycle, work
from campaigns.sending.errors import SendingError
from campaigns.sending.timing import SMART_DELIVERY_HOLD
from campaigns.states import CampaignState, MessageState, SmartDeliveryState
from contacts.phones import check_msisdn
from contacts.recipients import audience_size
from portal.audit import record
from portal.notify import notify, notify_admins

PICKED_STATES = frozenset({CampaignState.RUNNING, CampaignState.PAUSED})
# a campaign whose every message was in the test batch may have completed before its test batch is judged
JUDGED_STATES = PICKED_STATES | {CampaignState.COMPLETED}
AWAITING_REPORT = frozenset({MessageState.SENT, MessageState.UNKNOWN})


def check_options(account, audience: dict, *, enabled: bool, test_size: int, test_numbers: list) -> list[str]:
    """The test numbers in E.164 (each valid, at most SMART_TEST_NUMBERS_MAX); with Smart Delivery on and no test
    numbers, the random test batch must be smaller than the audience (contacts and numbers selected). Refusals
    name their field."""
    numbers: list[str] = []
    for raw in test_numbers or []:
        result = check_msisdn(raw, account.default_country)
        if not result.valid:
            reason = result.reason or "invalid number"
            raise SendingError(f"Test number {raw}: {reason}.", field="smart_test_numbers", code="invalid")
        if result.e164 not in numbers:
            numbers.append(result.e164)
    if len(numbers) > SMART_TEST_NUMBERS_MAX:
        raise SendingError(
            f"Give at most {SMART_TEST_NUMBERS_MAX} test numbers.", field="smart_test_numbers", code="invalid"
        )
    if enabled and not numbers:
        size = audience_size(account, audience)
        if test_size >= size:
            raise SendingError(
                f"The test batch ({test_size}) must be smaller than the audience ({size} selected), or the rest "
                "would be empty.",
                field="smart_test_size",
                code="invalid",
            )
    return numbers


def held_from(campaign: Campaign) -> datetime:
    """The held rest of a campaign are its queued messages due this late or later: every message was written at
    least SMART_DELIVERY_HOLD after the campaign was created, and a test message is due now or after a backoff."""
    return campaign.created_at + SMART_DELIVERY_HOLD


def _locked(campaign_id: int) -> Campaign | None:
    return (
        Campaign.objects.select_for_update(no_key=True, of=("self",))
        .select_related("account", "created_by")
        .filter(pk=campaign_id, smart_delivery=True)
        .first()
    )


def start_test_batch(campaign_id: int, now: datetime | None = None) -> int:
    """Pick the test batch of a prepared Smart Delivery campaign and let it leave now; how many it has (0 when the
    campaign has none to pick: not prepared, already picked, no messages)."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign is None or campaign.smart_state or campaign.state not in PICKED_STATES:
            return 0
        queued = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED)
        ids = []
        if campaign.smart_test_numbers:
            ids = list(queued.filter(recipient__in=campaign.smart_test_numbers).values_list("pk", flat=True))
        if not ids:  # no test numbers, or none of them got a message (opted out, refused)
            ids = list(queued.order_by("?").values_list("pk", flat=True)[: campaign.smart_test_size])
        if not ids:
            return 0
        Message.objects.filter(pk__in=ids).update(not_before=now)
        result = {"test_messages": len(ids), "held": queued.count() - len(ids)}
        Campaign.objects.filter(pk=campaign.pk).update(
            smart_state=SmartDeliveryState.PENDING, smart_test_ids=ids, smart_result=result, updated_at=now
        )
        record(campaign.account, None, "campaign.smart_delivery_started", campaign, after=result)
        work.dispatch_soon()
    return len(ids)


@dataclass
class BatchOutcome:
    """The test batch as it stands: counts by outcome and when its last message left the outbox."""

    total: int
    queued: int
    rejected_by_code: dict[str, int]
    delivered: int
    awaiting_report: int
    left_at: datetime | None

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_code.values())

    def due(self, now: datetime, wait_minutes: int) -> bool:
        """Every test message has left and `wait_minutes` have passed since the last one did."""
        if self.queued:
            return False
        return self.left_at is None or now >= self.left_at + timedelta(minutes=wait_minutes)

    def fails(self, max_percent: int) -> bool:
        """More than `max_percent` % of the test batch got a DLT rejection."""
        return self.rejected * 100 > max_percent * self.total

    def as_dict(self, max_percent: int) -> dict:
        failed = self.total - self.delivered - self.awaiting_report - self.rejected
        return {
            "test_messages": self.total,
            "rejected": self.rejected,
            "rejected_percent": round(100 * self.rejected / self.total, 1) if self.total else 0.0,
            "rejected_by_code": self.rejected_by_code,
            "delivered": self.delivered,
            "awaiting_report": self.awaiting_report,
            "other_failures": failed,
            "max_reject_percent": max_percent,
        }


def batch_outcome(campaign: Campaign) -> BatchOutcome:
    rows = (
        Message.objects.filter(pk__in=campaign.smart_test_ids)
        .order_by()
        .values("state", "error_code")
        .annotate(n=Count("id"), left=Max(Coalesce("sent_at", "done_at")))
    )
    counts = {"total": 0, "queued": 0, "delivered": 0, "awaiting": 0}
    rejected: dict[str, int] = {}
    left_at = None
    for row in rows:
        state, code, n = row["state"], row["error_code"], row["n"]
        counts["total"] += n
        if state == MessageState.QUEUED:
            counts["queued"] += n
        elif state == MessageState.DELIVERED:
            counts["delivered"] += n
        elif state in AWAITING_REPORT:
            counts["awaiting"] += n
        if code in DLT_REJECTION_CODES and state != MessageState.QUEUED:
            rejected[code] = rejected.get(code, 0) + n
        if row["left"] is not None and (left_at is None or row["left"] > left_at):
            left_at = row["left"]
    return BatchOutcome(counts["total"], counts["queued"], rejected, counts["delivered"], counts["awaiting"], left_at)


def judge(campaign_id: int, now: datetime | None = None) -> str | None:
    """Release or cancel the rest of a campaign whose test batch is due; the verdict, or None when not due."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _locked(campaign_id)
        if campaign is None or campaign.smart_state != SmartDeliveryState.PENDING:
            return None
        if campaign.state not in JUDGED_STATES:
            return None
        batch = batch_outcome(campaign)
        if not batch.due(now, campaign.smart_wait_minutes):
            return None
        result = batch.as_dict(campaign.smart_max_reject_percent)
        if batch.fails(campaign.smart_max_reject_percent):
            _cancel_rest(campaign, result, now)
            verdict = SmartDeliveryState.FAILED
        else:
            _release_rest(campaign, result, now)
            verdict = SmartDeliveryState.PASSED
        record(campaign.account, None, f"campaign.smart_delivery_{verdict}", campaign, after=result)
    return verdict


def _release_rest(campaign: Campaign, result: dict, now: datetime) -> None:
    """The held rest becomes due: the first held batch now, the later ones as far apart as they were written."""
    rest = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED, not_before__gte=held_from(campaign))
    first = rest.aggregate(first=Min("not_before"))["first"]
    released = rest.update(not_before=F("not_before") - (first - now)) if first else 0
    Campaign.objects.filter(pk=campaign.pk).update(
        smart_state=SmartDeliveryState.PASSED,
        smart_checked_at=now,
        smart_result={**result, "verdict": SmartDeliveryState.PASSED, "released": released},
        updated_at=now,
    )
    if released:
        work.dispatch_soon()


def _cancel_rest(campaign: Campaign, result: dict, now: datetime) -> None:
    """The campaign is cancelled as any cancelled campaign is (the held rest never left, so never charged), with
    why in its state reason; its author and the account's admins are told."""
    held = Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).count()
    reason = failure_reason(result)
    still_open = campaign.state in lifecycle.OPEN_STATES  # else every message was in the test batch
    if still_open:
        lifecycle.cancel_campaign(campaign)
        Campaign.objects.filter(pk=campaign.pk).update(state_reason=reason[:200])
    Campaign.objects.filter(pk=campaign.pk).update(
        smart_state=SmartDeliveryState.FAILED,
        smart_checked_at=now,
        smart_result={**result, "verdict": SmartDeliveryState.FAILED, "cancelled": held},
        updated_at=now,
    )
    if still_open:
        text = f"Smart Delivery cancelled “{campaign.name}”: {reason}; {held} held messages cancelled."
    else:
        text = f"Smart Delivery: “{campaign.name}” had no messages held back: {reason}."
    _notify(campaign, text)


def failure_reason(result: dict) -> str:
    """`Smart Delivery: 3 of 10 test messages refused by DLT (30.0%, more than 0%; codes 452 (2), 783 (1))`."""
    codes = ", ".join(f"{code} ({n})" for code, n in sorted(result["rejected_by_code"].items()))
    return (
        f"Smart Delivery: {result['rejected']} of {result['test_messages']} test messages refused by DLT "
        f"({result['rejected_percent']}%, more than {result['max_reject_percent']}%; codes {codes})"
    )


def _notify(campaign: Campaign, text: str) -> None:
    """The account's admins and the campaign's author (once, when the author is an admin)."""
    link = reverse("campaigns:campaign_detail", kwargs={"uid": campaign.uid})
    told = notify_admins(campaign.account, text, link=link, level="error")
    author = campaign.created_by
    if author is not None and author.pk not in {note.user_id for note in told}:
        notify(campaign.account, author, text, link=link, level="error")


def sweep(now: datetime | None = None) -> dict:
    """Beat: pick the test batch of prepared campaigns, judge the test batches that are due."""
    now = now or timezone.now()
    open_campaigns = Campaign.objects.filter(smart_delivery=True)
    to_pick = open_campaigns.filter(smart_state="", state__in=PICKED_STATES).values_list("pk", flat=True)
    to_judge = open_campaigns.filter(smart_state=SmartDeliveryState.PENDING, state__in=JUDGED_STATES)
    started = sum(1 for pk in list(to_pick) if start_test_batch(pk, now))
    judged = sum(1 for pk in list(to_judge.values_list("pk", flat=True)) if judge(pk, now))
    return {"started": started, "judged": judged}
