from django.contrib import admin

from portal.accounts import resume_account, suspend_account
from portal.caps import caps_of, record_change
from portal.models import SPENDING_CAP_FIELDS, Account, ApiToken, AuditEvent, Event, Membership, Notification


class CapsAuditMixin:
    """Spending caps changed by platform staff are audited like those changed by account admins."""

    def save_model(self, request, obj, form, change):
        before = caps_of(type(obj).objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        if change:
            record_change(obj, before, actor=request.user)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Account)
class AccountAdmin(CapsAuditMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "status",
        "entity_type",
        "default_country",
        "balance",
        "currency",
        *SPENDING_CAP_FIELDS,
        "created_at",
    ]
    list_filter = ["status", "entity_type", "default_country", "mobile_secure", "hide_msg"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["uid", "status", "balance", "created_at"]
    inlines = [MembershipInline]
    actions = ["suspend_selected", "resume_selected"]

    @admin.action(description="Suspend the selected accounts (audited; their queued messages wait)")
    def suspend_selected(self, request, queryset):
        moved = sum(suspend_account(account, actor=request.user, reason="Django admin") for account in queryset)
        self.message_user(request, f"{moved} account(s) suspended.")

    @admin.action(description="Resume the selected accounts (audited)")
    def resume_selected(self, request, queryset):
        moved = sum(resume_account(account, actor=request.user, reason="Django admin") for account in queryset)
        self.message_user(request, f"{moved} account(s) resumed.")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "account", "role", "created_at"]
    list_filter = ["role", "account"]
    search_fields = ["user__email", "user__username", "account__name"]
    autocomplete_fields = ["user", "account"]


@admin.register(ApiToken)
class ApiTokenAdmin(CapsAuditMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "account",
        "user",
        "read_only",
        "is_active",
        "expires_at",
        "last_used_at",
        "daily_message_cap",
        "daily_spend_cap",
    ]
    list_filter = ["is_active", "read_only", "account"]
    search_fields = ["name", "prefix", "user__email", "account__name"]
    readonly_fields = ["uid", "prefix", "token_hash", "last_used_at", "last_used_ip", "created_at", "revoked_at"]

    def has_add_permission(self, request):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "account", "actor_label", "verb", "object_type", "object_repr"]
    list_filter = ["verb", "object_type", "account"]
    search_fields = ["actor_label", "object_repr", "object_id", "verb"]
    date_hierarchy = "at"

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "name", "identity", "uid"]
    list_filter = ["name", "account"]
    search_fields = ["uid", "identity"]
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "user", "text", "read_at"]
    list_filter = ["level", "account"]
    search_fields = ["text", "user__email"]


from portal import (  # noqa: E402, F401
    admin_cleanup,  # CleanupBatch, CleanupRow
    admin_exports,  # Export
    admin_ops,  # Heartbeat
    admin_security,  # LoginLockout
    admin_webhooks,  # Webhook, Subscription, WebhookDelivery
)
