"""Opt-out pages: list, add (one or a pasted list), edit, delete, clean-all (restorable), import, export, inbound,
settings."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from contacts.filtersets_unsubscribers import InboundMessageFilterSet, UnsubscriberFilterSet
from contacts.forms_unsubscribers import (
    CleanAllForm,
    OptOutSettingsForm,
    UnsubscriberAddForm,
    UnsubscriberEditForm,
    UnsubscriberImportForm,
    apply_errors,
)
from contacts.importing.errors import ImportFileError
from contacts.models.imports import Import, ImportKind
from contacts.models.unsubscribers import InboundMessage, Unsubscriber, UnsubscriberSource, UnsubscriberType
from contacts.services_unsubscribers import (
    OPT_OUT_CLEANUP,
    DuplicateOptOut,
    add_from_text,
    approved_sender_names,
    clean_all,
    delete_unsubscriber,
    rotate_inbound_token,
    settings_for,
    update_settings,
    update_unsubscriber,
)
from contacts.suppression import annotate_opt_out
from contacts.unsubscriber_import import import_summary, start_unsubscriber_import
from portal import htmx
from portal.cleanup import CONFIRMATION_PHRASE, confirmation_matches
from portal.exports.writers import ExportColumn, iter_csv
from portal.masking import mask_msisdn
from portal.roles import MANAGE, READ, WRITE
from portal.views import AccountViewMixin
from portal.views_cleanup import recent_cleanups

PAGE_SIZE = 50


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query_without_page(request) -> str:
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


class UnsubscriberListView(AccountViewMixin, View):
    template_name = "contacts/unsubscriber_list.html"

    def get(self, request):
        queryset = Unsubscriber.objects.for_account(self.account).select_related("created_by")
        filterset = UnsubscriberFilterSet(request.GET or None, queryset=queryset, request=request)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        context = {
            "filterset": filterset,
            "page": _page(request, rows),
            "query": _query_without_page(request),
            "total": queryset.count(),
            "type_choices": UnsubscriberType.choices,
            "can_write": self.can(WRITE),
            "can_manage": self.can(MANAGE),
            **recent_cleanups(
                self.account,
                OPT_OUT_CLEANUP,
                restore_url="contacts:unsubscriber_restore_clean",
                can_restore=self.can(WRITE),
            ),
        }
        return htmx.render(request, self.template_name, context, partial="unsubscriber-rows")


class UnsubscriberCreateView(AccountViewMixin, View):
    required_capability = WRITE
    template_name = "contacts/unsubscriber_form.html"

    def get(self, request):
        form = UnsubscriberAddForm(initial={"receivers": request.GET.get("receiver", "")})
        return htmx.render(request, self.template_name, {"form": form, "creating": True})

    def post(self, request):
        form = UnsubscriberAddForm(request.POST)
        context = {"form": form, "creating": True}
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = add_from_text(
                    self.account,
                    request.user,
                    data["receivers"],
                    type=data["type"],
                    value=data["value"],
                    source=UnsubscriberSource.MANUAL,
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                if not result.invalid:
                    messages.success(request, f"Opt-outs added: {result.created} new, {result.existing} already there.")
                    return redirect("contacts:unsubscriber_list")
                context.update(result=result, form=UnsubscriberAddForm(initial=data))
                return htmx.render(request, self.template_name, context, status=200)
        return htmx.render(request, self.template_name, context, status=422)


class UnsubscriberEditView(AccountViewMixin, View):
    required_capability = WRITE
    template_name = "contacts/unsubscriber_form.html"

    def get_object(self, uid) -> Unsubscriber:
        return get_object_or_404(Unsubscriber, account=self.account, uid=uid)

    def get(self, request, uid):
        unsubscriber = self.get_object(uid)
        initial = {"receiver": unsubscriber.receiver, "type": unsubscriber.type, "value": unsubscriber.value}
        return htmx.render(
            request, self.template_name, {"form": UnsubscriberEditForm(initial=initial), "object": unsubscriber}
        )

    def post(self, request, uid):
        unsubscriber = self.get_object(uid)
        form = UnsubscriberEditForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                update_unsubscriber(
                    unsubscriber, request.user, receiver=data["receiver"], type=data["type"], value=data["value"]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            except DuplicateOptOut as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"Opt-out of {unsubscriber.receiver} saved.")
                return redirect("contacts:unsubscriber_list")
        return htmx.render(request, self.template_name, {"form": form, "object": unsubscriber}, status=422)


class UnsubscriberDeleteView(AccountViewMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        unsubscriber = get_object_or_404(Unsubscriber, account=self.account, uid=uid)
        delete_unsubscriber(unsubscriber, request.user)
        messages.success(request, f"Opt-out of {unsubscriber.receiver} ({unsubscriber.scope_label}) deleted.")
        target = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = reverse("contacts:unsubscriber_list")
        return redirect(target)


class UnsubscriberCleanView(AccountViewMixin, View):
    required_capability = WRITE
    template_name = "contacts/unsubscriber_clean.html"

    def context(self, form) -> dict:
        return {"form": form, "count": Unsubscriber.objects.for_account(self.account).count()}

    def get(self, request):
        return htmx.render(request, self.template_name, self.context(CleanAllForm()))

    def post(self, request):
        form = CleanAllForm(request.POST)
        if form.is_valid() and not confirmation_matches(form.cleaned_data["confirm"]):
            form.add_error("confirm", f"Type {CONFIRMATION_PHRASE} to delete every opt-out.")
        if form.is_valid():
            batch = clean_all(self.account, request.user)
            deleted = batch.row_count if batch else 0
            messages.success(request, f"All {deleted} opt-outs deleted. Restore them below within 30 days.")
            return redirect("contacts:unsubscriber_list")
        return htmx.render(request, self.template_name, self.context(form), status=422)


class UnsubscriberImportView(AccountViewMixin, View):
    """Upload a list; small files are imported at once, larger ones in the background with a polled progress."""

    required_capability = WRITE
    template_name = "contacts/unsubscriber_import.html"

    def get(self, request):
        return htmx.render(request, self.template_name, {"form": UnsubscriberImportForm()}, partial="import-panel")

    def post(self, request):
        form = UnsubscriberImportForm(request.POST, request.FILES)
        context = {"form": form}
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = start_unsubscriber_import(
                    self.account, request.user, data["file"], type=data["type"], value=data["value"]
                )
            except ValidationError as exc:
                apply_errors(form, exc)
            except ImportFileError as exc:
                form.add_error("file", exc.message)
            else:
                context.update(form=UnsubscriberImportForm(), job=job, summary=import_summary(job))
                return htmx.render(request, self.template_name, context, partial="import-panel")
        return htmx.render(request, self.template_name, context, partial="import-panel", status=422)


class UnsubscriberImportStatusView(AccountViewMixin, View):
    """The progress of one unsubscriber import (polled by the import page while it runs)."""

    def get(self, request, uid):
        job = get_object_or_404(Import, account=self.account, uid=uid, kind=ImportKind.UNSUBSCRIBERS)
        context = {"job": job, "summary": import_summary(job)}
        return htmx.render(request, "contacts/unsubscriber_import.html", context, partial="import-status")


class UnsubscriberExportView(AccountViewMixin, View):
    """The filtered list as CSV, streamed through contacts.exporting (formula-safe, numbers masked if secure)."""

    def columns(self) -> list[ExportColumn]:
        account = self.account
        return [
            ExportColumn("id", lambda item: str(item.uid)),
            ExportColumn("receiver", lambda item: mask_msisdn(item.receiver, account), phone=True),
            ExportColumn("iso", lambda item: item.country),
            ExportColumn("type", lambda item: item.type),
            ExportColumn("value", lambda item: item.value),
            ExportColumn("source", lambda item: item.source),
            ExportColumn("created_by", lambda item: item.created_by.email if item.created_by else ""),
            ExportColumn("created_at", lambda item: item.created_at),
        ]

    def get(self, request):
        queryset = Unsubscriber.objects.for_account(self.account).select_related("created_by")
        filterset = UnsubscriberFilterSet(request.GET or None, queryset=queryset, request=request)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        response = StreamingHttpResponse(
            iter_csv(self.columns(), rows.iterator(chunk_size=2000)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="unsubscribers-{self.account.slug}.csv"'
        return response


class InboundListView(AccountViewMixin, View):
    template_name = "contacts/inbound_list.html"

    def get(self, request):
        messages_in = InboundMessage.objects.for_account(self.account).select_related("number")
        queryset = annotate_opt_out(messages_in, self.account, field="from_number")
        filterset = InboundMessageFilterSet(request.GET or None, queryset=queryset, request=request)
        rows = filterset.qs if filterset.is_bound and filterset.is_valid() else queryset
        context = {"filterset": filterset, "page": _page(request, rows), "query": _query_without_page(request)}
        return htmx.render(request, self.template_name, context, partial="inbound-rows")


class OptOutSettingsView(AccountViewMixin, View):
    """Stop/start words, scope and confirmation reply (admins edit; everyone reads), and the inbound token."""

    template_name = "contacts/unsubscriber_settings.html"

    def capability_for(self, request) -> str:
        return READ if request.method == "GET" else MANAGE

    def context(self, form, **extra) -> dict:
        settings = settings_for(self.account)
        inbound_url = self.request.build_absolute_uri(reverse("contacts-api:inbound-list"))
        return {"form": form, "settings": settings, "can_edit": self.can(MANAGE), "inbound_url": inbound_url, **extra}

    def settings_form(self, data=None) -> OptOutSettingsForm:
        settings = settings_for(self.account)
        return OptOutSettingsForm(
            data,
            initial=OptOutSettingsForm.initial_from(settings),
            sender_names=approved_sender_names(self.account),
            current_reply_sender=settings.reply_sender,
        )

    def get(self, request):
        return htmx.render(request, self.template_name, self.context(self.settings_form()))

    def post(self, request):
        if "rotate_token" in request.POST:
            raw = rotate_inbound_token(self.account, request.user)
            return htmx.render(request, self.template_name, self.context(self.settings_form(), new_token=raw))
        form = self.settings_form(request.POST)
        if form.is_valid():
            try:
                update_settings(self.account, request.user, **form.cleaned_data)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, "Opt-out settings saved.")
                return redirect("contacts:unsubscriber_settings")
        return htmx.render(request, self.template_name, self.context(form), status=422)
