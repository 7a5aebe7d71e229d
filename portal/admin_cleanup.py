"""Django admin for clean-up batches and their rows (imported by portal/admin.py). Read-only: batches are
written and restored by portal.cleanup, which keeps the audit trail."""

from django.contrib import admin

from portal.models import CleanupBatch, CleanupRow


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CleanupBatch)
class CleanupBatchAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "row_count", "created_by", "expires_at", "restored_at"]
    list_filter = ["kind", "account", "restored_at"]
    search_fields = ["uid", "account__name", "created_by__email"]
    date_hierarchy = "created_at"
    list_select_related = ["account", "created_by"]


@admin.register(CleanupRow)
class CleanupRowAdmin(ReadOnlyAdmin):
    list_display = ["id", "batch", "data"]
    list_filter = ["batch__kind", "batch__account"]
    search_fields = ["batch__uid"]
    list_select_related = ["batch"]
    show_full_result_count = False
