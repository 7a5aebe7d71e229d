"""Admin of Verify: each account's settings, the requests with the channels they tried, paused prefixes.
Codes are never shown (only their HMAC is stored, and the sealed copy is not displayed)."""

from django.contrib import admin

from campaigns.models import Verification, VerifyAttempt, VerifyPrefixPause, VerifySettings


@admin.register(VerifySettings)
class VerifySettingsAdmin(admin.ModelAdmin):
    list_display = ["account", "sender", "template", "code_length", "expiry_seconds", "on_repeat", "prefix_limit"]
    list_filter = ["on_repeat", "code_length"]
    search_fields = ["account__name", "sender__name", "template__name"]
    autocomplete_fields = ["account"]
    raw_id_fields = ["sender", "template"]


class VerifyAttemptInline(admin.TabularInline):
    model = VerifyAttempt
    extra = 0
    can_delete = False
    fields = ["position", "channel", "sender_name", "message", "state", "detail", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Verification)
class VerificationAdmin(admin.ModelAdmin):
    list_display = ["uid", "account", "to", "country", "status", "failed_checks", "reference", "created_at"]
    list_filter = ["status", "country", "created_at"]
    search_fields = ["uid", "to", "reference", "foreign_id", "account__name"]
    date_hierarchy = "created_at"
    exclude = ["code_hash", "sealed_code"]
    readonly_fields = ["uid", "account", "to", "country", "prefix", "api_token", "created_at", "verified_at"]
    inlines = [VerifyAttemptInline]


@admin.register(VerifyPrefixPause)
class VerifyPrefixPauseAdmin(admin.ModelAdmin):
    list_display = ["prefix", "account", "until", "sends", "created_at"]
    list_filter = ["until"]
    search_fields = ["prefix", "account__name"]


@admin.register(VerifyAttempt)
class VerifyAttemptAdmin(admin.ModelAdmin):
    list_display = ["verification", "position", "channel", "sender_name", "state", "created_at"]
    list_filter = ["channel", "state"]
    search_fields = ["verification__uid", "verification__to", "sender_name"]
    raw_id_fields = ["verification", "message"]
