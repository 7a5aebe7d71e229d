"""API sends (single, bulk, template) and their quotes: numbers given by the client, not an audience.

The numbers go through the same door into contacts as a campaign's pasted numbers (`contacts.recipients`), each
is planned like a campaign's recipient (`planning.plan_message`) and the accepted ones are written by the one
draft writer (`preparation`). The answer lists what was accepted and why the others were refused.
"""

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from campaigns.links import LinkOptions, Shortener, check_link_options, shortener_for
from campaigns.rendering import required_variables
from campaigns.routing import Router
from campaigns.sending import billing, scheduled, work
from campaigns.sending.errors import Reason, SendingError
from campaigns.sending.lifecycle import check_free_text, check_start_time, template_problem
from campaigns.sending.outbox import (
    INTERNAL_MARKS,
    OPT_OUT_CONFIRMATION,
    SMPP_CREDENTIAL_MARK,
    SMPP_RECEIPT_MARK,
    USER_REQUESTED_MARK,
)
from campaigns.sending.planning import PROMOTIONAL_SERVICES, Draft, Rejection, build_spec, plan_message
from campaigns.sending.preparation import MessageDefaults, draft_rows, row_value, write_messages
from campaigns.states import MessageType
from campaigns.template_rules import promotional_header_problem
from campaigns.variable_mapping import missing_values
from contacts.recipients import recipients
from portal.audit import record
from portal.models import Account, ApiToken
from portal.secrets_at_rest import encrypt


@dataclass
class SendOutcome:
    group_id: uuid.UUID
    accepted: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    cost: Decimal = Decimal("0")
    shortener: Shortener | None = field(default=None, repr=False)  # the send's smart links, when it has some


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
    destination_port: int | None = None  # application port (UDH / SMPP destination_port TLV); None: none
    custom: str = ""
    max_units: int | None = None
    webhook_id: str = ""
    meta: dict = field(default_factory=dict)
    send_at: datetime | None = None
    time_field: str = "time"  # the input the client gave the time in (`time`, `schedule_time`): refusals name it
    confirms_opt_out: bool = False  # a reply confirming an opt-out reaches the number that just opted out
    api_token: ApiToken | None = None  # the API token sending (its spending caps apply)
    # Values never stored in clear (a Verify code): the body is stored with them masked, the text as sent is
    # sealed (encrypted) on the message until it leaves. Only for a send to one number.
    secret_values: tuple[str, ...] = ()
    # A message the user asked for (a Verify code) is not marketing: only `all` and sender opt-outs stop it.
    requested_by_user: bool = False
    links: LinkOptions = field(default_factory=LinkOptions)  # track links / the URL of {{smart_link}}
    # A submit over the SMPP gateway: (credential pk, registered_delivery & 3), the receipt it is owed.
    smpp_receipt: tuple[int, int] | None = None


def check_request(request: SendRequest, now: datetime) -> None:
    """Refusals of the whole send: a past or too distant time, an unusable sender or template, missing values."""
    check_start_time(request.send_at, now, field=request.time_field)
    if not request.sender.is_approved:
        raise SendingError(f"Sender {request.sender.name} is not approved.", field="sender")
    if request.service in PROMOTIONAL_SERVICES:
        header = promotional_header_problem(request.sender.name, request.sender.country_code)
        if header:
            raise SendingError(header, field="service")
    check_link_options(request.template.body if request.template is not None else request.text, request.links)
    if request.template is None:
        check_free_text(request.text, field="message")
    else:
        problem = template_problem(request.template)
        if problem:
            raise SendingError(problem, field="template")
        given = {name: {"default": value} for name, value in (request.variables or {}).items()}
        missing = missing_values(required_variables(request.template.body), given, remedy="give it in `data`")
        if missing:
            raise SendingError(missing[0], field="data")


def plan_send(account: Account, request: SendRequest) -> tuple[SendOutcome, list[Draft]]:
    """Each number's draft or refusal (invalid, repeated, opted out, or what planning refuses)."""
    outcome, drafts = SendOutcome(group_id=uuid.uuid4()), []
    outcome.shortener = shortener_for(
        request.links, account_id=account.pk, group_id=outcome.group_id, sender_name=request.sender.name
    )
    spec = build_spec(
        account,
        sender=request.sender,
        body=request.template.body if request.template is not None else request.text,
        template=request.template,
        message_type=request.message_type,
        max_units=request.max_units,
        service=request.service,
        port=request.destination_port,
        shortener=outcome.shortener,
    )
    numbers = {"numbers": request.recipients}
    chunks = recipients(
        account,
        numbers,
        sender=request.sender,
        product=spec.service,
        check_opt_outs=not request.confirms_opt_out,
        requested_by_user=request.requested_by_user,
        promotional=spec.promotional,
    )
    for chunk in chunks:
        for item in chunk:
            if item.invalid:
                outcome.rejected.append(Reason.refusal(item.given, Reason.INVALID_NUMBER, item.invalid))
            elif item.repeated:
                outcome.rejected.append(Reason.refusal(item.given, Reason.DUPLICATE))
            elif item.opt_out:
                outcome.rejected.append(Reason.refusal(item.given, Reason.SUPPRESSED, f"opted out ({item.opt_out})"))
            else:
                planned = plan_message(spec, item.number, item.country, values=request.variables or {})
                if isinstance(planned, Rejection):
                    outcome.rejected.append(Reason.refusal(item.given, planned.reason, planned.detail))
                else:
                    drafts.append(planned)
                    outcome.cost += planned.cost
    return outcome, drafts


def send_messages(account: Account, request: SendRequest, *, actor=None, dry_run: bool = False) -> SendOutcome:
    """Queue one message per valid, not opted-out recipient; report the others with their reason."""
    now = timezone.now()
    check_request(request, now)
    outcome, drafts = plan_send(account, request)
    if dry_run:
        outcome.accepted = [{"number": d.recipient, "parts": d.encoding.parts, "cost": str(d.cost)} for d in drafts]
        return outcome
    if drafts:
        billing.ensure_affordable(account, outcome.cost, count=len(drafts), api_token=request.api_token)
    defaults = _defaults(account, request, outcome.group_id)
    if request.secret_values:
        drafts, defaults.sealed_body = _sealed(drafts, request.secret_values)
    release = request.send_at if request.send_at and request.send_at > now else now
    router = Router(account.pk, request.service or request.sender.service)
    shortener = outcome.shortener
    with transaction.atomic():
        rows = draft_rows(drafts, lambda index: release, router, shortener)
        write_messages(defaults, now, rows, shortener.take() if shortener is not None else ())
        if rows:
            after = {"group_id": str(outcome.group_id), "n": len(rows)}
            record(account, actor, "sms.sent", request.sender, after=after)
            if release > now:
                scheduled.open_scheduled_send(account, request.sender, outcome.group_id, release, rows)
            work.dispatch_soon()
    outcome.accepted = [
        {
            "number": row_value(row, "recipient"),
            "message_id": str(uuid.UUID(row_value(row, "uid"))),
            "parts": row_value(row, "parts"),
            "cost": str(row_value(row, "cost")),
        }
        for row in rows
    ]
    return outcome


def mask(text: str, secrets: tuple[str, ...]) -> str:
    """The text with each secret value replaced by as many asterisks (the same length, encoding and parts)."""
    for secret in secrets:
        text = text.replace(secret, "*" * len(secret))
    return text


def _sealed(drafts: list[Draft], secrets: tuple[str, ...]) -> tuple[list[Draft], str]:
    """Drafts stored with their secrets masked, and the sealed (encrypted) text as sent."""
    if len(drafts) > 1:
        raise SendingError("A send with a secret value goes to one number.", field="to")
    if not drafts:
        return drafts, ""
    draft = drafts[0]
    masked = replace(
        draft,
        body=mask(draft.body, secrets),
        variables={name: mask(str(value), secrets) for name, value in draft.variables.items()},
    )
    return [masked], encrypt(draft.body)


def _defaults(account: Account, request: SendRequest, group_id: uuid.UUID) -> MessageDefaults:
    return MessageDefaults(
        account_id=account.pk,
        campaign_id=None,
        group_id=group_id,
        sender_id=request.sender.pk,
        sender_name=request.sender.name,
        service=request.service or request.sender.service,
        message_type=request.message_type or MessageType.AUTO,
        flash=request.flash,
        webhook_id=request.webhook_id,
        custom_id=request.custom,
        meta=_message_meta(request),
        destination_port=request.destination_port,
        api_token_id=request.api_token.pk if request.api_token is not None else None,
    )


def _message_meta(request: SendRequest) -> dict:
    """The client's meta, with the sending core's marks only when the send is one (never from a client)."""
    meta = {key: value for key, value in request.meta.items() if key not in INTERNAL_MARKS}
    if request.confirms_opt_out:
        meta[OPT_OUT_CONFIRMATION] = True
    if request.requested_by_user:
        meta[USER_REQUESTED_MARK] = True
    if request.smpp_receipt is not None:
        meta[SMPP_CREDENTIAL_MARK], meta[SMPP_RECEIPT_MARK] = request.smpp_receipt
    return meta
