"""Django admin for login lock-outs (imported by portal/admin.py); the admin site's own login is the portal's
(portal/two_factor/admin_site.py)."""

from django.contrib import admin, messages

from portal import brute_force
from portal.models import LoginLockout


class LockedNowFilter(admin.SimpleListFilter):
    title = "locked now"
    parameter_name = "locked"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.locked(brute_force.now())
        if self.value() == "no":
            return queryset.exclude(locked_until__gt=brute_force.now())
        return queryset


@admin.register(LoginLockout)
class LoginLockoutAdmin(admin.ModelAdmin):
    list_display = ["user", "locked_until", "failures", "last_address", "last_failure_at"]
    list_filter = [LockedNowFilter, "locked_until", "last_failure_at"]
    search_fields = ["user__username", "user__email", "last_address"]
    readonly_fields = ["user", "failures", "window_started_at", "last_failure_at", "last_address", "locked_until"]
    actions = ["unlock"]

    def has_add_permission(self, request):
        """Rows are written by failed logins only."""
        return False

    @admin.action(description="Unlock the selected users")
    def unlock(self, request, queryset):
        unlocked = sum(
            brute_force.unlock(row.user, actor=request.user, via="platform admin")
            for row in queryset.select_related("user")
        )
        self.message_user(request, f"{unlocked} user(s) unlocked.", messages.SUCCESS)
