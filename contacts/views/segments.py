"""Segment pages: list (counts load lazily), builder with a live HTMX count, delete."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from contacts import services
from contacts.audience import resolve_audience, rules_q, segments_with_rules
from contacts.forms import SegmentForm, apply_service_error
from contacts.models import Contact, Segment, TagOperator
from portal import htmx
from portal.roles import WRITE
from portal.views import AccountViewMixin


class SegmentListView(AccountViewMixin, View):
    template_name = "contacts/segment_list.html"

    def get(self, request):
        segments = segments_with_rules(Segment.objects.filter(account=self.account)).order_by("name")
        return htmx.render(request, self.template_name, {"segments": segments, "can_write": self.can(WRITE)})


class SegmentCountView(AccountViewMixin, View):
    """The number of contacts a saved segment resolves to (loaded by the list with hx-trigger="load")."""

    def get(self, request, uid):
        segment = get_object_or_404(segments_with_rules(), account=self.account, uid=uid)
        count = resolve_audience(self.account, segments=[segment]).count()
        return htmx.render(request, "contacts/segment_count.html", {"count": count, "segment": segment})


class SegmentPreviewView(AccountViewMixin, View):
    """Live count of the builder's (unsaved) rules: the form posts here on every change."""

    def post(self, request):
        form = SegmentForm(request.POST, account=self.account)
        form.is_valid()
        data = form.cleaned_data
        if any(name.startswith(("positive", "negative", "groups", "condition")) for name in form.errors):
            return htmx.render(request, "contacts/segment_count.html", {"count": None, "errors": form.errors})
        rule = rules_q(
            positive=[tag.pk for tag in data.get("positive_tags") or []],
            positive_operator=data.get("positive_tags_operator") or TagOperator.ANY,
            negative=[tag.pk for tag in data.get("negative_tags") or []],
            negative_operator=data.get("negative_tags_operator") or TagOperator.ANY,
            group_ids=[group.pk for group in data.get("groups") or []],
            conditions=data.get("conditions", []),
        )
        count = Contact.objects.filter(account=self.account).filter(rule).count()
        return htmx.render(request, "contacts/segment_count.html", {"count": count})


class SegmentFormView(AccountViewMixin, View):
    """Create (no uid) or edit (uid) a segment with the builder."""

    required_capability = WRITE
    template_name = "contacts/segment_form.html"

    def segment(self, uid):
        return None if uid is None else get_object_or_404(segments_with_rules(), account=self.account, uid=uid)

    def get(self, request, uid=None):
        segment = self.segment(uid)
        initial = SegmentForm.initial_for(segment) if segment else {}
        form = SegmentForm(initial=initial, account=self.account)
        count = resolve_audience(self.account, segments=[segment]).count() if segment else None
        return htmx.render(request, self.template_name, {"form": form, "segment": segment, "count": count})

    def post(self, request, uid=None):
        segment = self.segment(uid)
        form = SegmentForm(request.POST, account=self.account)
        if form.is_valid():
            try:
                segment = services.save_segment(self.account, request.user, segment=segment, **form.rules())
            except (ValidationError, services.ContactConflict) as exc:
                apply_service_error(form, exc)
            else:
                messages.success(request, f"Segment “{segment}” saved.")
                return redirect(reverse("contacts:contact_list") + f"?segment={segment.uid}")
        return htmx.render(request, self.template_name, {"form": form, "segment": segment, "count": None}, status=422)


class SegmentDeleteView(AccountViewMixin, View):
    required_capability = WRITE

    def get(self, request, uid):
        segment = get_object_or_404(Segment, account=self.account, uid=uid)
        context = {
            "object": segment,
            "kind": "segment",
            "consequence": "Only the rule is deleted; no contact is.",
            "cancel_url": reverse("contacts:segment_list"),
        }
        return htmx.render(request, "contacts/confirm_delete.html", context)

    def post(self, request, uid):
        segment = get_object_or_404(Segment, account=self.account, uid=uid)
        services.delete_segment(segment, request.user)
        messages.success(request, f"Segment “{segment}” deleted.")
        return redirect("contacts:segment_list")
