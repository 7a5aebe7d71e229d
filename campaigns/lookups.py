"""Senders and templates named by a client (API sends, Verify channels): found in the account, usable, or a refusal
naming the input at fault (a 422 through the API's exception handler)."""

import uuid

from django.db.models import Q

from campaigns.models import Sender, Template
from campaigns.sending.lifecycle import template_problem
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
