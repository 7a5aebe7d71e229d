"""Helpers shared by the campaigns pages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme

from campaigns import services


def apply_errors(form, error: ValidationError | services.Conflict) -> None:
    """Service errors onto the form: known fields get their messages, the rest become form errors."""
    if isinstance(error, services.Conflict):
        form.add_error(None, str(error))
        return
    for field, field_messages in getattr(error, "message_dict", {"__all__": error.messages}).items():
        target = field if field in form.fields else None
        for message in field_messages:
            form.add_error(target, message)


def flash_warnings(request, findings) -> None:
    for finding in findings:
        messages.warning(request, finding.message)


def reviewable(request, model, uid):
    """An object to review: from the current account, or from any account for platform staff."""
    if request.user.is_staff:
        return get_object_or_404(model.objects.select_related("account"), uid=uid)
    return get_object_or_404(model.objects.for_account(request.account), uid=uid)


def safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback
