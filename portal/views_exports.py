"""Exports in the browser: the Exports page (progress bars polled over HTMX while a job runs, download links),
the download, and `StartExportView`, the POST handler behind the "Export" buttons of the list pages."""

from django.contrib import messages
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from portal import htmx
from portal.exports import registry
from portal.exports.responses import download_response
from portal.exports.services import create_export, keep_days
from portal.models import Export, ExportFormat
from portal.service_errors import ServiceError
from portal.views import AccountViewMixin

__all__ = ["ExportDownloadView", "ExportListView", "StartExportView"]

RECENT_EXPORTS = 50
TEMPLATE = "portal/export_list.html"


class ExportListView(AccountViewMixin, View):
    """The account's recent exports; the table re-renders itself every second while one is unfinished."""

    def get(self, request):
        exports = list(Export.objects.for_account(self.account).select_related("created_by")[:RECENT_EXPORTS])
        context = {
            "exports": exports,
            "running": any(not export.is_finished for export in exports),
            "keep_days": keep_days(),
        }
        return htmx.render(request, TEMPLATE, context, partial="export-rows")


class ExportDownloadView(AccountViewMixin, View):
    def get(self, request, uid):
        export = get_object_or_404(Export.objects.for_account(self.account), uid=uid)
        try:
            return download_response(export, request.user)
        except ServiceError as exc:
            raise Http404(str(exc)) from None


class StartExportView(AccountViewMixin, View):
    """POST `format` (csv or xlsx) and `query` (the list's query string): an export of `kind` with the list's
    filters (other parameters of the query string, such as the page, are left out), then the Exports page.
    Refused filters send the person back to the list (`list_url`, a URL name) with the reason."""

    kind = ""
    list_url = ""

    def post(self, request):
        query = QueryDict(request.POST.get("query", ""))
        names = set(registry.source_of(self.kind).filterset.base_filters)
        filters = {name: value for name, value in query.items() if name in names and value}
        file_format = request.POST.get("format", ExportFormat.CSV)
        try:
            export = create_export(self.account, request.user, kind=self.kind, file_format=file_format, filters=filters)
        except ServiceError as exc:
            messages.error(request, f"{exc.field}: {exc}" if exc.field else str(exc))
            back = reverse(self.list_url)
            return redirect(f"{back}?{query.urlencode()}" if query else back)
        messages.success(request, f"Export started: {export.file_name} appears below when it is ready.")
        return redirect("portal:export_list")
