"""Replies to inbound messages (stop-word confirmations, keyword-route answers), sent through the API-send path.

`contacts.services_inbound.receive_inbound` records a reply as `queued` on the InboundMessage; the beat
sweep `campaigns.send_inbound_replies` sends each one from the number the handset wrote to when that is an
approved sender of the account, else from the account's configured reply sender. The reply is exempt from
the opt-out it confirms. The inbound message ends `sent` (with the message id) or `failed` (with the reason).
"""

from django.db import connection, transaction
from django.db.models import Q

from campaigns.models import Sender
from campaigns.sending.direct import SendRequest, send_messages
from campaigns.sending.errors import SendingError
from contacts.inbound_routing import destination_forms
from contacts.models import InboundAction, InboundMessage, InboundSettings
from contacts.models.unsubscribers import ReplyStatus

REPLY_BATCH = 100


def reply_sender(message: InboundMessage) -> Sender | None:
    """The approved sender the reply goes out from: the inbound `to`, else the account's reply sender."""
    approved = Sender.objects.for_account(message.account).approved()
    if message.to:
        spellings = Q()
        for form in destination_forms(message.to):
            spellings |= Q(name__iexact=form)
        sender = approved.filter(spellings).first()
        if sender is not None:
            return sender
    configured = InboundSettings.objects.filter(account=message.account).values_list("reply_sender", flat=True).first()
    return approved.filter(name__iexact=configured).first() if configured else None


def send_reply(message: InboundMessage) -> tuple[str, str]:
    """Send one queued reply; (reply status, message id or reason)."""
    sender = reply_sender(message)
    if sender is None:
        return ReplyStatus.FAILED, f"No approved sender to reply from ({message.to or 'no number written to'})."
    keyword_answer = message.action == InboundAction.AUTO_REPLIED  # asked for: only all/sender opt-outs stop it
    request = SendRequest(
        sender=sender,
        recipients=[message.from_number],
        text=message.reply_text,
        confirms_opt_out=not keyword_answer,
        requested_by_user=keyword_answer,
    )
    try:
        outcome = send_messages(message.account, request)
    except SendingError as error:
        return ReplyStatus.FAILED, str(error)
    if outcome.accepted:
        return ReplyStatus.SENT, f"message {outcome.accepted[0]['message_id']}"
    return ReplyStatus.FAILED, outcome.rejected[0]["message"] if outcome.rejected else "Not accepted."


def send_queued_replies(limit: int = REPLY_BATCH) -> int:
    """Claim up to `limit` queued replies (skipping rows another worker holds) and send them; how many."""
    handled = 0
    with transaction.atomic():
        queued = InboundMessage.objects.filter(reply_status=ReplyStatus.QUEUED).select_related("account")
        if connection.vendor == "postgresql":
            queued = queued.select_for_update(skip_locked=True, of=("self",))
        for message in queued.order_by("id")[:limit]:
            status, detail = send_reply(message)
            InboundMessage.objects.filter(pk=message.pk).update(reply_status=status, reply_detail=detail[:300])
            handled += 1
    return handled
