"""Helpers shared by the campaigns pages."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from campaigns import services
from campaigns.forms import UploadForm
from portal.roles import REVIEW
from portal.views import AccountViewMixin


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


class SpreadsheetIdImportView(AccountViewMixin, View):
    """Upload a file of template ids, hand its rows to a service, flash the summary and the first row errors."""

    required_capability = REVIEW
    redirect_to = ""
    wrong_file_message = ""

    def read_rows(self, upload):
        raise NotImplementedError

    def import_rows(self, rows):
        raise NotImplementedError

    def summary_message(self, summary) -> str:
        raise NotImplementedError

    def post(self, request):
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            messages.error(request, self.wrong_file_message)
            return redirect(self.redirect_to)
        try:
            rows = self.read_rows(form.cleaned_data["file"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(self.redirect_to)
        summary = self.import_rows(rows)
        messages.success(request, self.summary_message(summary))
        for row, message in summary.errors[:20]:
            messages.warning(request, f"Row {row}: {message}")
        return redirect(self.redirect_to)
