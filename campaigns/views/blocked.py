"""Blocked template pages: list, add, activate/deactivate, delete, import a file of ids, clean all (restorable)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from campaigns import services
from campaigns.filtersets import BlockedTemplateFilterSet
from campaigns.forms import BlockedTemplateForm, UploadForm
from campaigns.models import BlockedTemplate, BlockedTemplateStatus
from campaigns.template_files import read_blocked_template_ids
from campaigns.views.common import SpreadsheetIdImportView, apply_errors
from portal import htmx
from portal.cleanup import CONFIRMATION_PHRASE, confirmation_matches
from portal.roles import READ, REVIEW
from portal.views import AccountViewMixin
from portal.views_cleanup import recent_cleanups


class BlockedListView(AccountViewMixin, View):
    template_name = "campaigns/blockedtemplate_list.html"

    def capability_for(self, request) -> str:
        return READ if request.method == "GET" else REVIEW

    def render_page(self, request, form, status=200):
        filterset = BlockedTemplateFilterSet(request.GET, queryset=BlockedTemplate.objects.for_account(self.account))
        context = {
            "form": form,
            "upload_form": UploadForm(),
            "filter": filterset,
            "blocked": filterset.qs[:500],
            "total": BlockedTemplate.objects.for_account(self.account).count(),
            "can_review": self.can(REVIEW),
            "clean_confirmation": CONFIRMATION_PHRASE,
            **recent_cleanups(
                self.account,
                services.BLOCKED_TEMPLATES_CLEANUP,
                restore_url="campaigns:blockedtemplate_restore_clean",
                can_restore=self.can(REVIEW),
            ),
        }
        return htmx.render(request, self.template_name, context, partial="blocked-rows", status=status)

    def get(self, request):
        return self.render_page(request, BlockedTemplateForm())

    def post(self, request):
        form = BlockedTemplateForm(request.POST)
        if form.is_valid():
            try:
                services.block_template(
                    self.account, acting_user=request.user, template_id=form.cleaned_data["template_id"]
                )
            except (ValidationError, services.Conflict) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Template id {form.cleaned_data['template_id']} blocked.")
                return redirect("campaigns:blockedtemplate_list")
        return self.render_page(request, form, status=422)


class BlockedUpdateView(AccountViewMixin, View):
    """POST action=activate|deactivate|delete."""

    required_capability = REVIEW

    def post(self, request, uid):
        blocked = get_object_or_404(BlockedTemplate.objects.for_account(self.account), uid=uid)
        action = request.POST.get("action")
        if action == "delete":
            services.unblock_template(blocked, acting_user=request.user)
            messages.success(request, f"Template id {blocked.template_id} unblocked.")
        elif action in ("activate", "deactivate"):
            status = BlockedTemplateStatus.ACTIVE if action == "activate" else BlockedTemplateStatus.INACTIVE
            services.set_blocked_status(blocked, acting_user=request.user, status=status)
            messages.success(request, f"Template id {blocked.template_id} {action}d.")
        return redirect("campaigns:blockedtemplate_list")


class BlockedImportView(SpreadsheetIdImportView):
    redirect_to = "campaigns:blockedtemplate_list"
    wrong_file_message = "Choose a txt, csv, xls or xlsx file of template ids."

    def read_rows(self, upload):
        return read_blocked_template_ids(upload)

    def import_rows(self, rows):
        return services.import_blocked_templates(self.account, acting_user=self.request.user, rows=rows)

    def summary_message(self, summary) -> str:
        return f"Imported: {summary.created} blocked, {summary.existing} already blocked."


class BlockedCleanView(AccountViewMixin, View):
    required_capability = REVIEW

    def post(self, request):
        if not confirmation_matches(request.POST.get("confirm")):
            messages.error(request, f"Type {CONFIRMATION_PHRASE} to remove every blocked template id.")
        else:
            batch = services.clean_blocked_templates(self.account, acting_user=request.user)
            count = batch.row_count if batch else 0
            messages.success(request, f"Removed {count} blocked template ids. Restore them below within 30 days.")
        return redirect("campaigns:blockedtemplate_list")
