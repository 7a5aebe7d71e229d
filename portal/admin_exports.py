"""Django admin for exports (imported by portal/admin.py). Read-only: exports are written by their jobs."""

from django.contrib import admin

from portal.models import Export


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "account", "kind", "format", "state", "progress", "rows", "size", "created_by"]
    list_filter = ["kind", "format", "state", "account"]
    search_fields = ["uid", "file_name", "account__name", "created_by__email"]
    date_hierarchy = "created_at"
    list_select_related = ["account", "created_by"]
    readonly_fields = [field.name for field in Export._meta.fields]

    def has_add_permission(self, request):
        return False
