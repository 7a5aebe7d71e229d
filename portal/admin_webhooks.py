"""Django admin for webhooks, subscriptions and deliveries (imported by portal/admin.py)."""

from django.contrib import admin

from portal.models import Subscription, Webhook, WebhookDelivery


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ["event", "identity"]


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "account",
        "uri",
        "kind",
        "status",
        "verification",
        "disabled_reason",
        "last_success_at",
        "failing_since",
    ]
    list_filter = ["status", "kind", "verification_required", "send_bearer", "disabled_reason", "account"]
    search_fields = ["name", "uri", "uid", "account__name"]
    exclude = ["secret", "previous_secret", "token"]
    readonly_fields = [
        "uid",
        "previous_secret_expires_at",
        "failing_since",
        "last_success_at",
        "last_failure_at",
        "verification_required",
        "verified_at",
        "verification_checked_at",
        "verification_error",
    ]
    inlines = [SubscriptionInline]

    def has_add_permission(self, request):
        """Created in the portal or the API, where the URL is checked and the secret shown once."""
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["event", "identity", "webhook", "account", "created_at"]
    list_filter = ["event", "account"]
    search_fields = ["identity", "webhook__name", "account__name"]
    autocomplete_fields = ["webhook"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event_name",
        "webhook",
        "state",
        "attempt_count",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["state", "event_name", "account"]
    search_fields = ["event_uid", "uid", "webhook__name", "identity"]
    readonly_fields = [field.name for field in WebhookDelivery._meta.fields]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False
