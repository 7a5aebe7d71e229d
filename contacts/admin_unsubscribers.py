"""Django admin of opt-outs, inbound messages and opt-out settings (imported by contacts/admin.py)."""

from django.contrib import admin

from contacts.models.unsubscribers import InboundMessage, InboundSettings, Unsubscriber


@admin.register(Unsubscriber)
class UnsubscriberAdmin(admin.ModelAdmin):
    list_display = ["receiver", "country", "type", "value", "source", "account", "created_by", "created_at"]
    list_filter = ["type", "source", "country", "account"]
    search_fields = ["receiver", "value", "uid"]
    raw_id_fields = ["created_by"]
    readonly_fields = ["uid", "created_at", "updated_at"]


@admin.register(InboundMessage)
class InboundMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "from_number", "to", "keyword", "action", "reply_status", "account"]
    list_filter = ["action", "reply_status", "account"]
    search_fields = ["from_number", "to", "text", "provider_id", "uid"]
    readonly_fields = ["uid", "created_at", "updated_at"]
    date_hierarchy = "received_at"


@admin.register(InboundSettings)
class InboundSettingsAdmin(admin.ModelAdmin):
    list_display = ["account", "scope", "send_confirmation", "token_prefix", "token_rotated_at"]
    list_filter = ["scope", "send_confirmation"]
    search_fields = ["account__name", "account__slug"]
    readonly_fields = ["uid", "token_prefix", "token_rotated_at", "created_at", "updated_at"]
