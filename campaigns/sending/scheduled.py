"""Scheduled API sends: the row a send with a future time gets, and cancelling it.

`open_scheduled_send` is called by the API send (`direct.send_messages`) in the transaction that writes the
messages. `cancel_scheduled_send` cancels every queued message of the group until `SMS_CANCEL_CUTOFF_MINUTES`
before its time, through the campaign cancel's own code (`lifecycle.check_cancel_cutoff` and
`lifecycle.cancel_idle_messages`, which refunds what was debited), emits `sms:message:status` for each cancelled
message and writes the audit row.
"""

import uuid
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from campaigns.models import Message, ScheduledSend, ScheduledSendState
from campaigns.sending.errors import SendingError
from campaigns.sending.events import emit_statuses
from campaigns.sending.lifecycle import cancel_deadline, cancel_idle_messages, check_cancel_cutoff
from campaigns.sending.preparation import row_value
from campaigns.states import MessageState
from portal.audit import record
from portal.masking import mask_msisdn
from portal.models import Account

PREVIEW_RECIPIENTS = 3
REFUND_NOTE = "Scheduled send cancelled"


def open_scheduled_send(account: Account, sender, group_id: uuid.UUID, send_at: datetime, rows: list[tuple]):
    """The row of an API send whose message rows (`preparation.draft_rows`) wait until `send_at`."""
    return ScheduledSend.objects.create(
        account=account,
        uid=group_id,
        sender=sender,
        sender_name=sender.name,
        send_at=send_at,
        messages=len(rows),
        cost=sum((row_value(row, "cost") for row in rows), Decimal("0")),
        recipients=[row_value(row, "recipient") for row in rows[:PREVIEW_RECIPIENTS]],
    )


def group_messages(scheduled: ScheduledSend):
    """The send's messages (an API group: the `message_api_group` index)."""
    return Message.objects.filter(account_id=scheduled.account_id, group_id=scheduled.uid, campaign__isnull=True)


def masked_recipients(scheduled: ScheduledSend, account: Account) -> list[str]:
    return [mask_msisdn(number, account) for number in scheduled.recipients]


def is_cancellable(scheduled: ScheduledSend, now: datetime) -> bool:
    return scheduled.state_at(now) == ScheduledSendState.SCHEDULED and now <= cancel_deadline(scheduled.send_at)


def _snapshot(scheduled: ScheduledSend, now: datetime) -> dict:
    return {
        "state": scheduled.state_at(now),
        "messages": scheduled.messages,
        "cancelled": scheduled.cancelled,
        "refunded": str(scheduled.refunded),
    }


def cancel_scheduled_send(scheduled: ScheduledSend, *, actor=None) -> ScheduledSend:
    """Cancel the send's queued messages and refund what they were charged. Refused (409) once cancelled, after
    the cutoff, or when no message is left queued. Of two concurrent calls one cancels, the other is refused."""
    now = timezone.now()
    with transaction.atomic():
        current = ScheduledSend.objects.select_for_update().get(pk=scheduled.pk)
        if current.cancelled_at is not None:
            raise SendingError("This scheduled send is already cancelled.")
        check_cancel_cutoff(current.send_at, now)
        before = _snapshot(current, now)
        messages = group_messages(current)
        cancelled, refunded = cancel_idle_messages(messages, current.account_id, note=REFUND_NOTE, now=now)
        if not cancelled:
            raise SendingError("Nothing is left to cancel: no message of this send is queued.")
        ScheduledSend.objects.filter(pk=current.pk).update(
            cancelled_at=now, cancelled=cancelled, refunded=refunded, updated_at=now
        )
        emit_statuses(list(messages.filter(state=MessageState.CANCELLED, done_at=now)))
        current.refresh_from_db()
        record(current.account, actor, "sms.scheduled.cancelled", current, before=before, after=_snapshot(current, now))
    return current
