"""Django admin of imports and their row errors (imported by contacts/admin.py)."""

from django.contrib import admin

from contacts.models.imports import Import, ImportRowError


@admin.register(Import)
class ImportAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "kind",
        "state",
        "attempts",
        "mode",
        "rows_read",
        "created",
        "updated",
        "skipped",
        "failed",
        "account",
        "created_by",
        "created_at",
    ]
    list_filter = ["kind", "state", "mode", "dry_run", "account"]
    search_fields = ["file_name", "uid", "error_message"]
    raw_id_fields = ["created_by", "group"]
    readonly_fields = ["uid", "created_at", "updated_at", "started_at", "finished_at", "timings", "report"]
    date_hierarchy = "created_at"


@admin.register(ImportRowError)
class ImportRowErrorAdmin(admin.ModelAdmin):
    list_display = ["job", "sheet", "row", "column", "value", "code", "reason"]
    list_filter = ["code"]
    search_fields = ["value", "reason", "job__file_name", "job__uid"]
    raw_id_fields = ["job"]
