"""Admin of smart links, their short codes and visits (read-only: written by sends and by the redirect)."""

from django.contrib import admin

from campaigns.models import LinkVisit, ShortLink, SmartLink


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SmartLink)
class SmartLinkAdmin(ReadOnlyAdmin):
    list_display = ["uid", "account", "campaign", "position", "target_url", "sender_name", "created_at"]
    list_filter = ["account", "position"]
    search_fields = ["uid", "group_id", "target_url", "sender_name"]
    raw_id_fields = ["campaign"]
    list_select_related = ["account", "campaign"]


@admin.register(ShortLink)
class ShortLinkAdmin(ReadOnlyAdmin):
    list_display = ["code", "link", "recipient", "message_uid"]
    list_filter = ["link__account"]
    search_fields = ["=code", "recipient", "=message_uid"]
    raw_id_fields = ["link"]
    list_select_related = ["link"]
    show_full_result_count = False


@admin.register(LinkVisit)
class LinkVisitAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "recipient", "browser", "platform", "device_type", "country_code"]
    list_filter = ["account", "device_type", "platform", "country_code"]
    search_fields = ["recipient", "user_agent", "short_link__code"]
    raw_id_fields = ["link", "short_link"]
    list_select_related = ["account"]
