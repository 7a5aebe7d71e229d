"""Template pages: list, the editor with live lint (HTMX), detail with versions and audit trail, DLT export/import."""

import uuid
from dataclasses import dataclass
from itertools import pairwise

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from campaigns import services
from campaigns.encoding import analyze, non_gsm_characters
from campaigns.filtersets import TemplateFilterSet
from campaigns.forms import ReviewForm, TemplateForm, UploadForm
from campaigns.models import Sender, Template, TemplateStatus, TemplateType
from campaigns.template_files import dlt_export, read_dlt_template_ids
from campaigns.template_rules import ERROR, Finding, extract_variables, normalize_newlines
from campaigns.views.common import SpreadsheetIdImportView, apply_errors, flash_warnings
from portal import htmx
from portal.audit import trail_for
from portal.downloads import attachment
from portal.roles import REVIEW, WRITE
from portal.views import AccountViewMixin


@dataclass(frozen=True)
class Segment:
    """A run of the body for the lint preview: plain text, or text covered by findings (numbered)."""

    text: str
    severity: str = ""
    numbers: tuple[int, ...] = ()
    title: str = ""


def highlight_segments(body: str, findings: list[Finding]) -> list[Segment]:
    """The body cut at every finding boundary; each piece knows which findings (1-based numbers) cover it."""
    spans = [(n, f) for n, f in enumerate(findings, start=1) if f.field == "body" and f.end > f.start]
    cuts = sorted({0, len(body), *(f.start for _, f in spans), *(f.end for _, f in spans)})
    segments = []
    for start, end in pairwise(cuts):
        covering = [(n, f) for n, f in spans if f.start < end and start < f.end]
        text = body[start:end]
        if not covering:
            segments.append(Segment(text))
            continue
        severity = ERROR if any(f.severity == ERROR for _, f in covering) else "warning"
        visible = text.replace(" ", "·") if not text.strip(" ") else text
        segments.append(
            Segment(visible, severity, tuple(n for n, _ in covering), " ".join(f.message for _, f in covering))
        )
    return segments


def lint_context(account, data, instance: Template | None = None) -> dict:
    """Findings, highlighted preview, encoding and variables of the editor's current content."""
    body = normalize_newlines(data.get("body", ""))
    sender = Sender.objects.for_account(account).filter(uid=_uuid_or_none(data.get("sender"))).first()
    consent = Template.objects.for_account(account).filter(uid=_uuid_or_none(data.get("consent_template"))).first()
    template_type = data.get("template_type") or TemplateType.PROMOTIONAL
    is_english = data.get("is_english") in (True, "on", "true", "1")
    findings = services.lint_template(
        account,
        body=body,
        template_type=template_type,
        is_english=is_english,
        sender=sender,
        consent_template=consent,
        name=data.get("name") or None,
        exclude=instance,
    )
    errors = [f for f in findings if f.severity == ERROR]
    return {
        "findings": findings,
        "lint_errors": errors,
        "segments": highlight_segments(body, findings),
        "encoding": analyze(body),
        "unicode_chars": non_gsm_characters(body)[:10],
        "variables": extract_variables(body),
        "is_legacy_type": template_type == TemplateType.SERVICE_EXPLICIT,
    }


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


class TemplateListView(AccountViewMixin, View):
    def get(self, request):
        queryset = Template.objects.for_account(self.account).select_related("sender")
        filterset = TemplateFilterSet(request.GET, queryset=queryset)
        context = {
            "filter": filterset,
            "templates": filterset.qs[:500],
            "statuses": TemplateStatus.choices,
            "types": TemplateType.choices,
            "can_write": self.can(WRITE),
            "can_review": self.can(REVIEW),
            "upload_form": UploadForm(),
        }
        return htmx.render(request, "campaigns/template_list.html", context, partial="template-rows")


class TemplateEditorMixin:
    template_name = "campaigns/template_form.html"

    def render_editor(self, request, form, instance=None, status=200):
        data = form.data if form.is_bound else form.initial
        context = {"form": form, "template": instance, **lint_context(self.account, data, instance)}
        return htmx.render(request, self.template_name, context, status=status)

    def save(self, request, form, instance=None):
        if not form.is_valid():
            return self.render_editor(request, form, instance, status=422)
        data = dict(form.cleaned_data)
        try:
            if instance is None:
                saved = services.create_template(self.account, acting_user=request.user, **data)
            else:
                saved = services.update_template(instance, acting_user=request.user, **data)
        except (ValidationError, services.Conflict) as exc:
            apply_errors(form, exc)
            return self.render_editor(request, form, instance, status=422)
        messages.success(request, f"Template “{saved.template.name}” saved ({saved.template.status}).")
        flash_warnings(request, saved.warnings)
        return redirect("campaigns:template_detail", uid=saved.template.uid)


class TemplateCreateView(TemplateEditorMixin, AccountViewMixin, View):
    required_capability = WRITE

    def get(self, request):
        return self.render_editor(request, TemplateForm(account=self.account, initial={"is_english": True}))

    def post(self, request):
        return self.save(request, TemplateForm(request.POST, account=self.account))


class TemplateEditView(TemplateEditorMixin, AccountViewMixin, View):
    required_capability = WRITE

    def get_template(self, uid) -> Template:
        return get_object_or_404(Template.objects.for_account(self.account).select_related("sender"), uid=uid)

    def get(self, request, uid):
        template = self.get_template(uid)
        form = TemplateForm(account=self.account, instance=template, initial=TemplateForm.initial_for(template))
        return self.render_editor(request, form, template)

    def post(self, request, uid):
        template = self.get_template(uid)
        return self.save(request, TemplateForm(request.POST, account=self.account, instance=template), template)


class TemplateLintView(AccountViewMixin, View):
    """HTMX: the lint panel for the editor's current content (no save)."""

    def post(self, request):
        instance = Template.objects.for_account(self.account).filter(uid=_uuid_or_none(request.POST.get("id"))).first()
        context = lint_context(self.account, request.POST, instance)
        return htmx.render(request, "campaigns/template_form.html#lint-panel", context)


class TemplateDetailView(AccountViewMixin, View):
    def get(self, request, uid):
        template = get_object_or_404(
            Template.objects.for_account(self.account).select_related("sender", "consent_template", "reviewed_by"),
            uid=uid,
        )
        findings = services.lint_saved_template(template)
        context = {
            "template": template,
            "findings": findings,
            "encoding": analyze(template.body),
            "variables": extract_variables(template.body),
            "versions": template.versions.select_related("created_by")[:20],
            "trail": trail_for(template)[:50],
            "review_form": ReviewForm(),
            "can_review": self.can(REVIEW) and template.status == TemplateStatus.PENDING,
            "can_write": self.can(WRITE),
            "review_url": reverse("campaigns:template_review", args=[template.uid]),
        }
        return htmx.render(request, "campaigns/template_detail.html", context)


class TemplateDeleteView(AccountViewMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        template = get_object_or_404(Template.objects.for_account(self.account), uid=uid)
        try:
            services.delete_template(template, acting_user=request.user)
        except services.Conflict as exc:
            messages.error(request, str(exc))
            return redirect("campaigns:template_detail", uid=template.uid)
        messages.success(request, f"Template “{template.name}” deleted.")
        return redirect("campaigns:template_list")


class DltExportView(AccountViewMixin, View):
    def get(self, request):
        return attachment(*dlt_export(self.account))


class DltImportView(SpreadsheetIdImportView):
    redirect_to = "campaigns:template_list"
    wrong_file_message = "Choose a spreadsheet with the DLT template ids."

    def read_rows(self, upload):
        return read_dlt_template_ids(upload)

    def import_rows(self, rows):
        return services.import_dlt_template_ids(self.account, acting_user=self.request.user, rows=rows)

    def summary_message(self, summary) -> str:
        return f"DLT ids: {summary.created} updated, {summary.existing} unchanged."
