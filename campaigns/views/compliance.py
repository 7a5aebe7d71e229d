"""The compliance desk: pending senders and templates (of every account for platform staff), decisions with a
required reason for rejections, and bulk approval."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View

from campaigns import services
from campaigns.forms import ReviewForm
from campaigns.models import Sender, Template
from campaigns.views.common import reviewable, safe_next
from portal import htmx
from portal.roles import REVIEW
from portal.views import AccountViewMixin


class ReviewQueueView(AccountViewMixin, View):
    required_capability = REVIEW

    def get(self, request):
        all_accounts = request.user.is_staff and request.GET.get("scope") == "all"
        senders = Sender.objects.pending().select_related("account", "created_by")
        templates = Template.objects.pending().select_related("account", "sender", "created_by")
        if not all_accounts:
            senders, templates = senders.for_account(self.account), templates.for_account(self.account)
        context = {
            "senders": senders.order_by("created_at")[:200],
            "templates": templates.order_by("created_at")[:200],
            "all_accounts": all_accounts,
            "review_form": ReviewForm(),
        }
        return htmx.render(request, "campaigns/review_queue.html", context)


class ReviewDecisionView(AccountViewMixin, View):
    """POST decision=approve|reject (+ reason) on one sender or template."""

    required_capability = REVIEW
    model = None

    def post(self, request, uid):
        obj = reviewable(request, self.model, uid)
        detail = reverse(f"campaigns:{self.model._meta.model_name}_detail", args=[obj.uid])
        fallback = detail if obj.account_id == self.account.pk else reverse("campaigns:review_queue")
        form = ReviewForm(request.POST)
        if not form.is_valid():
            for field_errors in form.errors.values():
                for error in field_errors:
                    messages.error(request, error)
            return redirect(safe_next(request, fallback))
        decision, reason = form.cleaned_data["decision"], form.cleaned_data["reason"]
        approve, reject = (
            (services.approve_sender, services.reject_sender)
            if self.model is Sender
            else (services.approve_template, services.reject_template)
        )
        try:
            if decision == "approve":
                approve(obj, acting_user=request.user, reason=reason)
            else:
                reject(obj, acting_user=request.user, reason=reason)
        except (ValidationError, services.Conflict) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"{obj} {'approved' if decision == 'approve' else 'rejected'}.")
        return redirect(safe_next(request, fallback))


class BulkApproveView(AccountViewMixin, View):
    """Approve the ticked senders and templates of the queue."""

    required_capability = REVIEW

    def post(self, request):
        objects = [reviewable(request, Sender, uid) for uid in request.POST.getlist("senders")]
        objects += [reviewable(request, Template, uid) for uid in request.POST.getlist("templates")]
        if not objects:
            messages.warning(request, "Tick the senders and templates to approve.")
            return redirect(safe_next(request, reverse("campaigns:review_queue")))
        result = services.bulk_approve(objects, acting_user=request.user)
        if result.approved:
            messages.success(request, f"Approved {len(result.approved)}.")
        for obj, reason in result.skipped:
            messages.warning(request, f"{obj}: {reason}")
        return redirect(safe_next(request, reverse("campaigns:review_queue")))
