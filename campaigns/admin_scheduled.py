"""Admin of scheduled API sends (read-only: they are written with their messages and cancelled through the API or
the Scheduled sends page, which refund and audit)."""

from django.contrib import admin

from campaigns.models import ScheduledSend


@admin.register(ScheduledSend)
class ScheduledSendAdmin(admin.ModelAdmin):
    list_display = ["uid", "account", "sender_name", "send_at", "messages", "cost", "cancelled_at", "created_at"]
    list_filter = [("cancelled_at", admin.EmptyFieldListFilter), "account"]
    search_fields = ["uid", "sender_name"]
    raw_id_fields = ["sender"]
    list_select_related = ["account"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
