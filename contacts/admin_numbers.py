"""Admin of inbound numbers (platform staff assign them to accounts here) and their keyword routes."""

from django.contrib import admin

from contacts.models import InboundNumber, KeywordRoute


class KeywordRouteInline(admin.TabularInline):
    model = KeywordRoute
    extra = 0
    fields = ["keyword", "webhook", "reply_text"]
    raw_id_fields = ["webhook"]


@admin.register(InboundNumber)
class InboundNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "account", "country", "label", "is_active", "created_at"]
    list_filter = ["is_active", "country"]
    search_fields = ["number", "label", "account__name", "account__slug"]
    autocomplete_fields = ["account"]
    inlines = [KeywordRouteInline]

    def save_formset(self, request, form, formset, change):
        for route in formset.save(commit=False):
            route.account = form.instance.account
            route.save()
        formset.save_m2m()
        for deleted in formset.deleted_objects:
            deleted.delete()


@admin.register(KeywordRoute)
class KeywordRouteAdmin(admin.ModelAdmin):
    list_display = ["keyword", "account", "number", "webhook", "reply_text", "created_at"]
    search_fields = ["keyword", "account__name", "number__number"]
    list_filter = ["created_at"]
    raw_id_fields = ["number", "webhook"]
    autocomplete_fields = ["account"]
