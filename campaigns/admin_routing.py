"""Admin of the route table (route sets, routes with their ordered connectors) and of what SMPP workers keep
(bind slots with their live status, receipts waiting for their message, parts of inbound messages)."""

from django.contrib import admin
from django.db.models import Count

from campaigns.models import PendingReceipt, Route, RouteSet, RouteSetMember, RouteStep, SmppBind, SmppInboundPart


class RouteStepInline(admin.TabularInline):
    model = RouteStep
    extra = 1
    ordering = ["position"]
    autocomplete_fields = ["connector"]


class RouteSetMemberInline(admin.TabularInline):
    model = RouteSetMember
    extra = 1
    autocomplete_fields = ["account"]


@admin.register(RouteSet)
class RouteSetAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "members", "created_at"]
    search_fields = ["name", "description", "members__account__name"]
    inlines = [RouteSetMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("members"))

    @admin.display(description="Accounts pinned", ordering="member_count")
    def members(self, route_set):
        return route_set.member_count


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ["__str__", "route_set", "country", "prefix", "service", "connectors", "is_active", "updated_at"]
    list_filter = ["is_active", "service", "route_set", "country"]
    search_fields = ["country", "prefix", "note", "steps__connector__name"]
    inlines = [RouteStepInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("route_set").prefetch_related("steps__connector")

    @admin.display(description="Connectors, in order")
    def connectors(self, route):
        return " → ".join(step.connector.name for step in route.steps.all())


@admin.register(SmppBind)
class SmppBindAdmin(admin.ModelAdmin):
    list_display = ["connector", "slot", "state", "mode", "state_since", "worker", "window_in_use", "submitted"]
    list_display += ["receipts", "rate", "last_error", "heartbeat_at"]
    list_filter = ["state", "connector"]
    search_fields = ["connector__name", "worker", "last_error"]
    readonly_fields = [field.name for field in SmppBind._meta.fields]


@admin.register(PendingReceipt)
class PendingReceiptAdmin(admin.ModelAdmin):
    list_display = ["connector", "upstream_id", "handset", "status", "code", "state", "received_at"]
    list_filter = ["connector", "status"]
    search_fields = ["upstream_id", "handset"]


@admin.register(SmppInboundPart)
class SmppInboundPartAdmin(admin.ModelAdmin):
    list_display = ["connector", "source", "destination", "reference", "sequence", "total", "received_at"]
    list_filter = ["connector"]
    search_fields = ["source", "destination"]
