"""Sender ID pages: list with filters, create, detail (audit trail, review), edit, delete."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from campaigns import services
from campaigns.filtersets import SenderFilterSet
from campaigns.forms import ReviewForm, SenderForm
from campaigns.models import Sender, SenderStatus
from campaigns.views.common import apply_errors, flash_warnings
from portal import htmx
from portal.audit import trail_for
from portal.roles import REVIEW, WRITE
from portal.views import AccountViewMixin


class SenderListView(AccountViewMixin, View):
    def get(self, request):
        filterset = SenderFilterSet(request.GET, queryset=Sender.objects.for_account(self.account))
        context = {
            "filter": filterset,
            "senders": filterset.qs.select_related("created_by")[:500],
            "statuses": SenderStatus.choices,
            "can_write": self.can(WRITE),
        }
        return htmx.render(request, "campaigns/sender_list.html", context, partial="sender-rows")


class SenderCreateView(AccountViewMixin, View):
    required_capability = WRITE
    template_name = "campaigns/sender_form.html"

    def get(self, request):
        form = SenderForm(initial={"country_code": self.account.default_country})
        return htmx.render(request, self.template_name, {"form": form})

    def post(self, request):
        form = SenderForm(request.POST)
        if form.is_valid():
            try:
                sender = services.create_sender(self.account, acting_user=request.user, **form.cleaned_data)
            except (ValidationError, services.Conflict) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Sender {sender.name} submitted for review.")
                flash_warnings(request, _warnings(sender))
                return redirect("campaigns:sender_detail", uid=sender.uid)
        return htmx.render(request, self.template_name, {"form": form}, status=422)


def _warnings(sender: Sender):
    findings = services.sender_findings(
        sender.account,
        name=sender.name,
        country_code=sender.country_code,
        service=sender.service,
        entity_id=sender.entity_id,
    )
    return [finding for finding in findings if finding.severity == "warning"]


class SenderDetailView(AccountViewMixin, View):
    def get(self, request, uid):
        sender = get_object_or_404(Sender.objects.for_account(self.account), uid=uid)
        context = {
            "sender": sender,
            "warnings": _warnings(sender),
            "trail": trail_for(sender)[:50],
            "templates": sender.templates.all()[:50],
            "review_form": ReviewForm(),
            "can_review": self.can(REVIEW) and sender.status == SenderStatus.PENDING,
            "can_write": self.can(WRITE),
            "review_url": reverse("campaigns:sender_review", args=[sender.uid]),
        }
        return htmx.render(request, "campaigns/sender_detail.html", context)


class SenderEditView(AccountViewMixin, View):
    required_capability = WRITE
    template_name = "campaigns/sender_form.html"

    def get_sender(self, uid) -> Sender:
        return get_object_or_404(Sender.objects.for_account(self.account), uid=uid)

    def get(self, request, uid):
        sender = self.get_sender(uid)
        initial = {name: getattr(sender, name) for name in ("name", "country_code", "service", "entity_id")}
        form = SenderForm(initial=initial, editing=True)
        return htmx.render(request, self.template_name, {"form": form, "sender": sender})

    def post(self, request, uid):
        sender = self.get_sender(uid)
        form = SenderForm(request.POST, initial={"name": sender.name}, editing=True)
        if form.is_valid():
            changes = {key: value for key, value in form.cleaned_data.items() if key != "name"}
            try:
                sender = services.update_sender(sender, acting_user=request.user, **changes)
            except (ValidationError, services.Conflict) as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"Sender {sender.name} saved ({sender.get_status_display().lower()}).")
                return redirect("campaigns:sender_detail", uid=sender.uid)
        return htmx.render(request, self.template_name, {"form": form, "sender": sender}, status=422)


class SenderDeleteView(AccountViewMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        sender = get_object_or_404(Sender.objects.for_account(self.account), uid=uid)
        try:
            services.delete_sender(sender, acting_user=request.user)
        except services.Conflict as exc:
            messages.error(request, str(exc))
            return redirect("campaigns:sender_detail", uid=sender.uid)
        messages.success(request, f"Sender {sender.name} deleted.")
        return redirect("campaigns:sender_list")
