"""Django admin for the heartbeats (imported by portal/admin.py): read-only, written by the heartbeat task."""

from django.contrib import admin
from django.utils import timezone

from portal.models import Heartbeat


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at", "age"]
    readonly_fields = ["name", "beat_at"]

    def has_add_permission(self, request):
        """Rows are written by the heartbeat task only."""
        return False

    @admin.display(description="age (seconds)")
    def age(self, heartbeat: Heartbeat) -> int:
        return int((timezone.now() - heartbeat.beat_at).total_seconds())
