"""Contact import pages: upload → mapping and preview → progress (HTMX polling) → results; history.

The upload stores the file as an Import waiting for its mapping (nothing is read or written yet); the
mapping page previews the first rows with the mapping applied and every cell problem marked, and changing
a column's field re-renders the preview; "Import" starts it (inline when small, else as a Celery task).
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from contacts.forms_imports import ImportUploadForm
from contacts.importing.downloads import REPORT_FORMATS, error_report_response
from contacts.importing.engine import build_preview, target_for
from contacts.importing.errors import ImportFileError
from contacts.importing.mapping import ATTRIBUTE, IGNORE
from contacts.importing.options import parse_mapping
from contacts.models import Import, ImportKind, ImportState
from contacts.services_imports import (
    AWAITING_MAPPING,
    can_start,
    cancel_import,
    check_request_size,
    create_import,
    delete_import,
    start_import,
)
from portal import htmx
from portal.roles import WRITE
from portal.views import AccountViewMixin

TEMPLATE = "contacts/import_detail.html"
INLINE_ERRORS = 20


def _history(account):
    return (
        Import.objects.for_account(account)
        .filter(kind=ImportKind.CONTACTS)
        .select_related("created_by", "group")
        .order_by("-created_at")[:50]
    )


class ImportListView(AccountViewMixin, View):
    """History of contact imports and the upload form."""

    def capability_for(self, request) -> str:
        return WRITE if request.method == "POST" else super().capability_for(request)

    def render_page(self, request, form, status=200):
        context = {"form": form, "imports": _history(self.account), "can_write": self.can(WRITE)}
        return htmx.render(request, "contacts/import_list.html", context, partial="import-history", status=status)

    def get(self, request):
        return self.render_page(request, ImportUploadForm(account=self.account))

    def post(self, request):
        try:
            check_request_size(request.META.get("CONTENT_LENGTH"))
        except ImportFileError as exc:
            form = ImportUploadForm(account=self.account)
            form.add_error(None, exc.message)
            return self.render_page(request, form, status=413)
        form = ImportUploadForm(request.POST, request.FILES, account=self.account)
        if not form.is_valid():
            return self.render_page(request, form, status=422)
        data = form.cleaned_data
        try:
            with transaction.atomic():
                job = create_import(
                    self.account,
                    request.user,
                    data["file"],
                    mode=data["mode"],
                    keep_existing=data["keep_existing"],
                    group=data["group"],
                    tags=data["tags"],
                )
                Import.objects.filter(pk=job.pk).update(report={AWAITING_MAPPING: True})
        except ImportFileError as exc:
            form.add_error("file", exc.message)
            return self.render_page(request, form, status=422)
        return redirect("contacts:import_detail", uid=job.uid)


class ImportObjectMixin(AccountViewMixin):
    def get_job(self, uid) -> Import:
        return get_object_or_404(
            Import.objects.for_account(self.account).select_related("created_by", "group"), uid=uid
        )


def _mapping_from_post(post) -> dict[str, str]:
    return {key[4:]: value for key, value in post.items() if key.startswith("map:") and value}


def _preview_context(job: Import, overrides: dict) -> dict:
    target = target_for(job.kind)
    choices = [(spec.name, spec.label) for spec in target.fields] + [
        (ATTRIBUTE, "Keep as attribute"),
        (IGNORE, "Ignore"),
    ]
    try:
        preview = build_preview(job.file.path, job.kind, job.account, overrides)
    except ImportFileError as exc:
        return {"preview_error": exc.message, "choices": choices}
    for sheet in preview["sheets"]:
        sheet["rows"] = [row for row in preview["rows"] if row["sheet"] == sheet["name"]]
    return {"preview": preview, "choices": choices}


class ImportDetailView(ImportObjectMixin, View):
    """The mapping step of a new import, or the progress and results of a started one."""

    def get(self, request, uid):
        job = self.get_job(uid)
        context = {"job": job, "can_write": self.can(WRITE)}
        if (job.report or {}).get(AWAITING_MAPPING):
            context.update(_preview_context(job, job.mapping or {}))
        else:
            context.update(_results_context(job))
        return htmx.render(request, TEMPLATE, context)


def _results_context(job: Import) -> dict:
    return {
        "first_errors": list(job.row_errors.order_by("position", "id")[:INLINE_ERRORS]),
        "errors_total": job.row_errors.count(),
        "formats": REPORT_FORMATS,
    }


class ImportPreviewView(ImportObjectMixin, View):
    """Re-render the preview with the mapping chosen in the form (HTMX)."""

    required_capability = WRITE

    def post(self, request, uid):
        job = self.get_job(uid)
        try:
            overrides = parse_mapping(_mapping_from_post(request.POST), job.kind)
        except ValidationError:
            overrides = {}
        context = {"job": job, "can_write": True, **_preview_context(job, overrides)}
        return htmx.render(request, TEMPLATE, context, partial="import-preview")


class ImportStartView(ImportObjectMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        job = self.get_job(uid)
        if not can_start(job):
            messages.info(request, "This import is already running.")
            return redirect("contacts:import_detail", uid=job.uid)
        posted = _mapping_from_post(request.POST)
        try:
            overrides = parse_mapping(posted, job.kind) if posted else None
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("contacts:import_detail", uid=job.uid)
        start_import(job, dry_run=False, mapping=overrides)
        return redirect("contacts:import_detail", uid=job.uid)


class ImportStatusView(ImportObjectMixin, View):
    """The progress/results panel alone, polled by HTMX every second while the import runs."""

    def get(self, request, uid):
        job = self.get_job(uid)
        context = {"job": job, "can_write": self.can(WRITE), **_results_context(job)}
        return htmx.render(request, TEMPLATE, context, partial="import-status")


class ImportCancelView(ImportObjectMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        job = cancel_import(self.get_job(uid), request.user)
        if job.state == ImportState.CANCELLED or job.cancel_requested:
            messages.info(request, "The import stops after the batch it is writing; what was written stays.")
        return redirect("contacts:import_detail", uid=job.uid)


class ImportDeleteView(ImportObjectMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        job = self.get_job(uid)
        with transaction.atomic():
            delete_import(job, request.user)
        messages.success(request, f"Import entry {job.file_name} deleted (the contacts it wrote stay).")
        return redirect(reverse("contacts:import_list"))


class ImportErrorsView(ImportObjectMixin, View):
    """The error report as CSV or XLSX."""

    def get(self, request, uid, file_format):
        if file_format not in REPORT_FORMATS:
            raise Http404
        return error_report_response(self.get_job(uid), file_format)
