"""Developers → Webhooks: list, create/edit with a test event, verification, delivery log, redelivery,
subscriptions."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from portal import htmx
from portal.forms_webhooks import SubscriptionForm, WebhookForm
from portal.models import Subscription, Webhook, WebhookDelivery
from portal.roles import MANAGE, READ
from portal.service_errors import ServiceError
from portal.views import AccountViewMixin
from portal.webhooks import services, validation, verification
from portal.webhooks.filtersets import DeliveryFilterSet, WebhookFilterSet

DELIVERIES_PER_PAGE = 50


NEW_SECRET_SESSION_KEY = "webhook-new-secret"


class WebhookAccessMixin(AccountViewMixin):
    """Everyone in the account reads; only admins change webhooks."""

    def capability_for(self, request) -> str:
        return READ if request.method == "GET" else MANAGE

    def get_webhook(self, uid) -> Webhook:
        return get_object_or_404(Webhook, account=self.account, uid=uid)


class WebhookListView(WebhookAccessMixin, View):
    def get(self, request):
        webhooks = Webhook.objects.for_account(self.account).annotate(
            failed_count=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.FAILED)),
            pending_count=Count("deliveries", filter=Q(deliveries__state=WebhookDelivery.State.PENDING)),
            subscription_count=Count("subscriptions", distinct=True),
        )
        filterset = WebhookFilterSet(request.GET or None, queryset=webhooks)
        context = {"webhooks": filterset.qs, "filterset": filterset, "can_manage": self.can(MANAGE)}
        return htmx.render(request, "portal/webhook_list.html", context, partial="webhook-rows")


class WebhookCreateView(AccountViewMixin, View):
    required_capability = MANAGE

    def get(self, request):
        return htmx.render(request, "portal/webhook_form.html", {"form": WebhookForm(), "webhook": None})

    def post(self, request):
        form = WebhookForm(request.POST)
        if not form.is_valid():
            return htmx.render(request, "portal/webhook_form.html", {"form": form, "webhook": None}, status=422)
        secret = form.cleaned_secret or validation.clean_secret(None)
        created = services.create_webhook(self.account, form.cleaned_webhook, secret=secret, acting_user=request.user)
        messages.success(request, f"Webhook “{created.webhook.name}” created. Subscribe it to events below.")
        return redirect_showing_secret(request, created.webhook, created.secret)


class WebhookEditView(AccountViewMixin, View):
    required_capability = MANAGE

    def get(self, request, uid):
        webhook = get_object_or_404(Webhook, account=self.account, uid=uid)
        context = {"form": WebhookForm(instance=webhook), "webhook": webhook}
        return htmx.render(request, "portal/webhook_form.html", context)

    def post(self, request, uid):
        webhook = get_object_or_404(Webhook, account=self.account, uid=uid)
        form = WebhookForm(request.POST, instance=webhook)
        if not form.is_valid():
            return htmx.render(request, "portal/webhook_form.html", {"form": form, "webhook": webhook}, status=422)
        services.update_webhook(webhook, dict(form.cleaned_webhook), acting_user=request.user)
        if form.cleaned_secret:
            secret = services.rotate_secret(webhook, new_secret=form.cleaned_secret, acting_user=request.user)
            messages.success(request, "Saved. The previous secret keeps signing during the rotation overlap.")
            return redirect_showing_secret(request, webhook, secret)
        messages.success(request, "Webhook saved.")
        return redirect("portal:webhook_detail", uid=webhook.uid)


def delivery_log(request, webhook: Webhook):
    queryset = WebhookDelivery.objects.filter(webhook=webhook)
    filterset = DeliveryFilterSet(request.GET or None, queryset=queryset)
    page = Paginator(filterset.qs, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return filterset, page


def render_detail(request, view: AccountViewMixin, webhook: Webhook, *, new_secret: str | None = None, status=200):
    filterset, page = delivery_log(request, webhook)
    context = {
        "webhook": webhook,
        "held_count": webhook.deliveries.filter(state=WebhookDelivery.State.PENDING).count() if webhook.is_held else 0,
        "new_secret": new_secret,
        "subscriptions": webhook.subscriptions.order_by("event", "identity"),
        "subscription_form": SubscriptionForm(webhook=webhook),
        "filterset": filterset,
        "deliveries": page,
        "can_manage": view.can(MANAGE),
    }
    return htmx.render(request, "portal/webhook_detail.html", context, partial="delivery-log", status=status)


def redirect_showing_secret(request, webhook: Webhook, secret: str):
    """Post/redirect/get: the new secret rides in the session for exactly one view of the detail page."""
    request.session[f"{NEW_SECRET_SESSION_KEY}:{webhook.uid}"] = secret
    return redirect("portal:webhook_detail", uid=webhook.uid)


class WebhookDetailView(WebhookAccessMixin, View):
    def get(self, request, uid):
        webhook = self.get_webhook(uid)
        new_secret = request.session.pop(f"{NEW_SECRET_SESSION_KEY}:{webhook.uid}", None)
        return render_detail(request, self, webhook, new_secret=new_secret)


class WebhookActionView(WebhookAccessMixin, View):
    """POST actions on one webhook: delete, restore, rotate, redeliver-failed, verify, test (an HTMX partial)."""

    def post(self, request, uid, action):
        webhook = self.get_webhook(uid)
        if action == "test":
            context = {"webhook": webhook}
            try:
                context["delivery"] = services.send_test_event(webhook, acting_user=request.user)
            except ServiceError as exc:
                context["error"] = str(exc)
            return htmx.render(request, "portal/webhook_test_result.html", context, partial="test-result")
        if action == "verify":
            return self.verify(request, webhook)
        if action == "delete":
            services.delete_webhook(webhook, acting_user=request.user)
            messages.success(request, f"“{webhook.name}” deleted. Restore it any time; pending deliveries failed.")
        elif action == "restore":
            services.restore_webhook(webhook, acting_user=request.user)
            messages.success(request, f"“{webhook.name}” is active again.")
        elif action == "rotate":
            secret = services.rotate_secret(webhook, acting_user=request.user)
            return render_detail(request, self, webhook, new_secret=secret)
        elif action == "redeliver-failed":
            try:
                count = services.redeliver_failed(webhook, acting_user=request.user)
                messages.success(request, f"{count} failed deliveries queued again, in their original order.")
            except services.WebhookInactive as exc:
                messages.error(request, str(exc))
        else:
            raise Http404
        return redirect("portal:webhook_detail", uid=webhook.uid)

    def verify(self, request, webhook: Webhook):
        try:
            webhook = verification.verify_webhook(webhook, acting_user=request.user)
        except ServiceError as exc:
            messages.error(request, str(exc))
        else:
            if webhook.verification_error:
                messages.error(request, f"Verification failed: {webhook.verification_error}")
            else:
                messages.success(request, "Verified: the endpoint answered the challenge. Deliveries go out now.")
        return redirect("portal:webhook_detail", uid=webhook.uid)


class DeliveryDetailView(WebhookAccessMixin, View):
    def get_delivery(self, uid) -> WebhookDelivery:
        return get_object_or_404(WebhookDelivery.objects.select_related("webhook"), account=self.account, uid=uid)

    def get(self, request, uid):
        item = self.get_delivery(uid)
        context = {"delivery": item, "webhook": item.webhook, "can_manage": self.can(MANAGE)}
        return htmx.render(request, "portal/webhook_delivery_detail.html", context)

    def post(self, request, uid):
        item = self.get_delivery(uid)
        try:
            services.redeliver(item, acting_user=request.user)
            messages.success(request, "Queued again with the same event id.")
        except services.WebhookInactive as exc:
            messages.error(request, str(exc))
        return redirect("portal:webhook_delivery_detail", uid=item.uid)


class SubscriptionCreateView(WebhookAccessMixin, View):
    def post(self, request, uid):
        webhook = self.get_webhook(uid)
        form = SubscriptionForm(request.POST, webhook=webhook)
        if form.is_valid():
            services.create_subscription(
                self.account,
                webhook=webhook,
                event=form.cleaned_data["event"],
                identity=form.cleaned_data["identity"],
                acting_user=request.user,
            )
            messages.success(request, f"Subscribed to {form.cleaned_data['event']} ({form.cleaned_data['identity']}).")
        else:
            messages.error(request, " ".join(message for errors in form.errors.values() for message in errors))
        return redirect("portal:webhook_detail", uid=webhook.uid)


class SubscriptionDeleteView(WebhookAccessMixin, View):
    def post(self, request, uid):
        subscription = get_object_or_404(Subscription.objects.select_related("webhook"), account=self.account, uid=uid)
        services.delete_subscription(subscription, acting_user=request.user)
        messages.success(request, f"Unsubscribed from {subscription.event} ({subscription.identity}).")
        return redirect("portal:webhook_detail", uid=subscription.webhook.uid)
