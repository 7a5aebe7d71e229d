"""Senders and templates named by a client (API sends, Verify channels): found in the account, usable, or a refusal
naming the input at fault (a 422 through the API's exception handler)."""

import uuid

from django.db.models import Q

from campaigns.matching import TemplateMatcher
from campaigns.models import Sender, Template
from campaigns.rendering import compile_body
from campaigns.sending.lifecycle import template_problem
from campaigns.variables import braced
from portal.service_errors import ServiceError


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def approved_sender(account, name: str, *, field: str = "sender") -> Sender:
    """The account's sender of this name (case-insensitive), which must be approved."""
    sender = Sender.objects.for_account(account).filter(name__iexact=name.strip()).order_by("-status").first()
    if sender is None:
        raise ServiceError(f"Unknown sender {name}.", field=field)
    if not sender.is_approved:
        raise ServiceError("Sender not allowed: it is not approved.", field=field)
    return sender


def template_by_reference(account, reference: str, *, field: str = "alias") -> Template:
    """A sendable template by alias, DLT template id or public id."""
    condition = Q(alias=reference) | Q(dlt_template_id=reference)
    if is_uuid(reference):
        condition |= Q(uid=reference)
    template = Template.objects.for_account(account).select_related("sender").filter(condition).first()
    if template is None:
        raise ServiceError(f"No template {reference}.", field=field)
    problem = template_problem(template)
    if problem:
        raise ServiceError(problem, field=field)
    return template


def template_for_text(
    account, sender: Sender, dlt_template_id: str, text: str, *, field: str = "dlt_template_id"
) -> tuple[Template, dict[str, str]]:
    """The sender's sendable template with this DLT template id, and the variable values `text` gives it: the text
    must match the template as the template matcher matches (`campaigns.matching`), and sending the template with
    those values must give back the text (a variable used twice holds one value)."""
    reference = dlt_template_id.strip()
    candidates = Template.objects.for_account(account).select_related("sender").filter(dlt_template_id=reference)
    own = candidates.filter(sender=sender)
    template = own.usable().first() or own.first() or candidates.first()
    if template is None:
        raise ServiceError(f"No template has DLT template id {reference}.", field=field)
    if template.sender_id != sender.pk:
        raise ServiceError(f"Template {template.name} is registered for sender {template.sender.name}.", field=field)
    problem = template_problem(template)
    if problem:
        raise ServiceError(problem, field=field)
    result = TemplateMatcher([(template.pk, template.body)]).match(text)
    if not result.matched:
        raise ServiceError(
            f"The message does not match template {template.name} ({reference}): {result.difference.reason}",
            field="message",
        )
    compiled = compile_body(template.body)
    if compiled.render(result.values) != text:
        repeated = next(name for name in compiled.variables if compiled.variables.count(name) > 1)
        raise ServiceError(f"{braced(repeated)} has two different values in the message.", field="message")
    return template, result.values
