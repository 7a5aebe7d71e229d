"""The default connector: accepts messages and reports an outcome after a short delay, deterministic per number.

Outcomes by the last four digits of the recipient (so tests and demos can aim at one):
| ends in | submit                                   | delivery report              |
|---------|------------------------------------------|------------------------------|
| 0000    | accepted                                 | 001 INVALID-SUB (undelivered)|
| 0013    | accepted                                 | 013 MOB-OFF (undelivered)    |
| 0021    | accepted                                 | 021 EXPIRED (expired)        |
| 0456    | accepted                                 | 456 OPTOUT-REJ (rejected)    |
| 9997    | ESME_RSYSERR every time (transient)      | none: the message fails      |
| 9998    | ESME_RTHROTTLED on the first attempt     | 000 DELIVRD                  |
| 9999    | ESME_RINVDSTADR (permanent)              | none: rejected, 404          |
| other   | accepted                                 | 000 DELIVRD                  |

Every accepted message is recorded once in SimulatorSubmission (unique on the message id, the idempotency
key): a resubmission returns the same upstream id and only counts the duplicate.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from campaigns import dlr_codes
from campaigns.connectors.base import BaseConnector, ConnectorResult


@dataclass(frozen=True)
class SimulatedOutcome:
    submit: str  # "accept", "transient" or "permanent"
    dlr_code: str = ""
    submit_error: str = ""


_REPORT_BY_SUFFIX = {
    "0000": dlr_codes.INVALID_SUBSCRIBER,
    "0013": "013",
    "0021": dlr_codes.EXPIRED,
    "0456": dlr_codes.OPT_OUT_REJECTED,
}


def simulated_outcome(msisdn: str, attempt: int = 1) -> SimulatedOutcome:
    """What the simulator does with a message to `msisdn` on its `attempt`-th submission."""
    suffix = msisdn[-4:]
    if suffix == "9997":
        return SimulatedOutcome("transient", submit_error="ESME_RSYSERR")
    if suffix == "9998" and attempt <= 1:
        return SimulatedOutcome("transient", submit_error="ESME_RTHROTTLED")
    if suffix == "9999":
        return SimulatedOutcome("permanent", submit_error="ESME_RINVDSTADR")
    return SimulatedOutcome("accept", dlr_code=_REPORT_BY_SUFFIX.get(suffix, dlr_codes.DELIVERED))


def upstream_id(message) -> str:
    return f"sim-{message.uid.hex}"


class SimulatorConnector(BaseConnector):
    kind = "simulator"

    def send(self, message) -> ConnectorResult:
        from campaigns.conf import setting
        from campaigns.models import SimulatorSubmission

        outcome = simulated_outcome(message.recipient, message.attempts)
        if outcome.submit == "transient":
            return ConnectorResult.retry(f"{outcome.submit_error}: try again later")
        if outcome.submit == "permanent":
            return ConnectorResult.rejected(dlr_codes.INVALID_NUMBER, f"{outcome.submit_error}: invalid destination")
        delay = float(self.config.get("dlr_delay_seconds", setting("SMS_SIMULATOR_DLR_DELAY_SECONDS")))
        try:
            with transaction.atomic():
                SimulatorSubmission.objects.create(
                    message_uid=message.uid,
                    connector=self.connector,
                    recipient=message.recipient,
                    dlr_code=outcome.dlr_code,
                    report_due_at=timezone.now() + timedelta(seconds=delay),
                )
        except IntegrityError:
            SimulatorSubmission.objects.filter(message_uid=message.uid).update(duplicates=F("duplicates") + 1)
        return ConnectorResult.accepted(upstream_id(message))


def deliver_due_reports(limit: int = 2000) -> int:
    """Send the delivery reports that are due (called by a beat sweep); returns how many were applied."""
    from campaigns.dispatch import apply_delivery_report
    from campaigns.models import SimulatorSubmission

    now = timezone.now()
    due = list(
        SimulatorSubmission.objects.filter(reported_at__isnull=True, report_due_at__lte=now)
        .order_by("report_due_at")
        .values_list("pk", "message_uid", "dlr_code")[:limit]
    )
    applied = 0
    for pk, message_uid, code in due:
        if not SimulatorSubmission.objects.filter(pk=pk, reported_at__isnull=True).update(reported_at=now):
            continue
        apply_delivery_report(message_uid, code, source="simulator", raw={"code": code})
        applied += 1
    return applied
