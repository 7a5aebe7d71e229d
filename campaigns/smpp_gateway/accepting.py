"""A customer's submits become messages exactly as an API send does: `campaigns.sending.direct.send_messages`,
the same checks in the same order (approved sender, template match for IN with 452, variable length 783, opt-outs,
balance and caps), the same outbox. Nothing here is a second copy of a rule: this module only groups submits and
translates the sending core's answers into command_status (`statuses`).

Submits arrive in batches (the server collects those of a few milliseconds); submits of one credential with the
same sender, text and options to different numbers go as one send, so a burst costs a few queries, not a few per
message. A send refused as a whole (balance, caps) is retried submit by submit, so each gets its own answer.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import close_old_connections

from campaigns.lookups import approved_sender, template_for_text
from campaigns.models import SmppCredential
from campaigns.sending.direct import SendRequest, send_messages
from campaigns.smpp_gateway import statuses
from campaigns.smpp_gateway.statuses import Status
from campaigns.smpp_gateway.submits import Submission
from portal.models import AccountStatus
from portal.service_errors import ServiceError


@dataclass(frozen=True)
class Answer:
    status: Status
    message_id: str = ""
    detail: str = ""


def accept_submissions(credential_id: int, submissions: list[Submission]) -> list[Answer]:
    """One answer per submission, in order. Called from the server's database threads."""
    close_old_connections()
    credential = SmppCredential.objects.select_related("account").filter(pk=credential_id).first()
    if credential is None or not credential.is_active or credential.account.status != AccountStatus.ACTIVE:
        return [Answer(statuses.BIND_FAILED, detail="the credential or its account is no longer active")] * len(
            submissions
        )
    answers: list[Answer | None] = [None] * len(submissions)
    for indexes in _groups(submissions):
        for index, answer in zip(indexes, _send_group(credential, [submissions[i] for i in indexes]), strict=True):
            answers[index] = answer
    return answers


def _groups(submissions: list[Submission]) -> list[list[int]]:
    """Indexes of submissions that can go as one send: the same sender, text and options, each number once."""
    groups: dict[tuple, list[tuple[list[int], set[str]]]] = defaultdict(list)
    for index, submission in enumerate(submissions):
        key = (
            submission.sender.lower(),
            submission.text,
            submission.flash,
            submission.receipt,
            submission.port,
            submission.india,
            submission.send_at,
        )
        for indexes, numbers in groups[key]:
            if submission.recipient not in numbers:
                indexes.append(index)
                numbers.add(submission.recipient)
                break
        else:
            groups[key].append(([index], {submission.recipient}))
    return [indexes for key_groups in groups.values() for indexes, _ in key_groups]


def _send_group(credential: SmppCredential, group: list[Submission]) -> list[Answer]:
    first = group[0]
    try:
        outcome = send_messages(credential.account, _request(credential, first, [s.recipient for s in group]))
    except ServiceError as error:
        if len(group) > 1:
            return [answer for submission in group for answer in _send_group(credential, [submission])]
        return [Answer(statuses.for_error(error), detail=str(error))]
    return _answers(group, outcome)


def _request(credential: SmppCredential, submission: Submission, recipients: list[str]) -> SendRequest:
    account = credential.account
    sender = approved_sender(account, submission.sender)
    template, values = None, None
    india = submission.india
    if india.pe_id and sender.entity_id and india.pe_id != sender.entity_id:
        raise ServiceError(
            f"pe_id {india.pe_id} is not the DLT entity id of sender {sender.name}.", field="pe_id", code="invalid"
        )
    if india.template_id:
        template, values = template_for_text(account, sender, india.template_id, submission.text)
    return SendRequest(
        sender=sender,
        recipients=recipients,
        text=submission.text,
        template=template,
        variables=values,
        flash=submission.flash,
        destination_port=submission.port,
        meta={"tm_id": india.tm_id} if india.tm_id else {},
        send_at=submission.send_at,
        smpp_receipt=(credential.pk, submission.receipt),
    )


def _answers(group: list[Submission], outcome) -> list[Answer]:
    """The send's accepted and refused numbers matched back to the submissions (a number the contacts door wrote
    differently, e.g. national digits read in the account's country, takes the next unmatched submission)."""
    answers: list[Answer | None] = [None] * len(group)
    by_number = {submission.recipient: index for index, submission in enumerate(group)}
    for refusal in outcome.rejected:
        index = by_number.pop(refusal["number"], None)
        if index is not None:
            answers[index] = Answer(statuses.for_reason(refusal["reason"]), detail=refusal["message"])
    unmatched = []
    for accepted in outcome.accepted:
        index = by_number.pop(accepted["number"], None)
        if index is None:
            unmatched.append(accepted)
        else:
            answers[index] = Answer(statuses.OK, accepted["message_id"])
    leftover = iter(unmatched)
    for index in sorted(by_number.values()):
        accepted = next(leftover, None)
        answers[index] = Answer(statuses.OK, accepted["message_id"]) if accepted else Answer(statuses.SUBMIT_FAILED)
    return answers
