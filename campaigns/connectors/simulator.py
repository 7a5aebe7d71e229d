"""The default connector: accepts messages and reports an outcome after a short delay, deterministic per number.

Outcomes by the last four digits of the recipient (so tests and demos can aim at one):
| ends in | submit                                   | delivery report              |
|---------|------------------------------------------|------------------------------|
| 0000    | accepted                                 | 001 INVALID-SUB (undelivered)|
| 0013    | accepted                                 | 013 MOB-OFF (undelivered)    |
| 0021    | accepted                                 | 021 EXPIRED (expired)        |
| 0452    | accepted                                 | 452 TEMPLATE-NOT-FOUND (rejected, DLT)|
| 0456    | accepted                                 | 456 OPTOUT-REJ (rejected)    |
| 9997    | ESME_RSYSERR every time (transient)      | none: the message fails      |
| 9998    | ESME_RTHROTTLED on the first attempt     | 000 DELIVRD                  |
| 9999    | ESME_RINVDSTADR (permanent)              | none: rejected, 404          |
| other   | accepted                                 | 000 DELIVRD                  |

Every accepted message is recorded once in SimulatorSubmission (unique on the message id, the idempotency
key) with its flash flag and destination port: a resubmission returns the same upstream id and only counts the
duplicate.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from campaigns import dlr_codes
from campaigns.conf import setting
from campaigns.connectors.base import BaseConnector, ConnectorResult, DeliveryReceipt
from campaigns.models import SimulatorSubmission


@dataclass(frozen=True)
class SimulatedOutcome:
    submit: str  # "accept", "transient" or "permanent"
    dlr_code: str = ""
    submit_error: str = ""


_REPORT_BY_SUFFIX = {
    "0000": dlr_codes.INVALID_SUBSCRIBER,
    "0013": "013",
    "0021": dlr_codes.EXPIRED,
    "0452": dlr_codes.TEMPLATE_NOT_FOUND,
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
        return self.send_many([message])[0]

    def send_many(self, messages: list) -> list[ConnectorResult]:
        """Decide each outcome, then record the accepted ones in two queries (duplicates only counted)."""

        results, accepted = [], []
        for message in messages:
            outcome = simulated_outcome(message.recipient, message.attempts)
            if outcome.submit == "transient":
                results.append(ConnectorResult.retry(f"{outcome.submit_error}: try again later"))
            elif outcome.submit == "permanent":
                detail = f"{outcome.submit_error}: invalid destination"
                results.append(ConnectorResult.rejected(dlr_codes.INVALID_NUMBER, detail))
            else:
                accepted.append((message, outcome))
                results.append(ConnectorResult.accepted(upstream_id(message)))
        if accepted:
            self._record(accepted)
        return results

    @classmethod
    def take_due_receipts(cls, limit: int) -> list[DeliveryReceipt]:
        """The simulated reports that are due (SKIP LOCKED on PostgreSQL), marked reported."""
        due = SimulatorSubmission.objects.filter(reported_at__isnull=True, report_due_at__lte=timezone.now())
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        batch = list(due.order_by("report_due_at").values_list("pk", "message_uid", "dlr_code")[:limit])
        if batch:
            SimulatorSubmission.objects.filter(pk__in=[pk for pk, _, _ in batch]).update(reported_at=timezone.now())
        return [DeliveryReceipt(uid, code, "simulator", raw={"code": code}) for _, uid, code in batch]

    def _record(self, accepted: list) -> None:
        delay = float(self.config.get("dlr_delay_seconds", setting("SMS_SIMULATOR_DLR_DELAY_SECONDS")))
        due = timezone.now() + timedelta(seconds=delay)
        uids = [message.uid for message, _ in accepted]
        with transaction.atomic():
            known = set(SimulatorSubmission.objects.filter(message_uid__in=uids).values_list("message_uid", flat=True))
            SimulatorSubmission.objects.filter(message_uid__in=known).update(duplicates=F("duplicates") + 1)
            SimulatorSubmission.objects.bulk_create(
                [
                    SimulatorSubmission(
                        message_uid=message.uid,
                        connector=self.connector,
                        recipient=message.recipient,
                        dlr_code=outcome.dlr_code,
                        flash=message.flash,
                        destination_port=message.destination_port,
                        report_due_at=due,
                    )
                    for message, outcome in accepted
                    if message.uid not in known
                ],
                ignore_conflicts=True,
            )
