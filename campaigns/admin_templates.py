"""Admin of sender IDs, content templates (with their versions) and blocked templates."""

from django.contrib import admin

from campaigns.models import BlockedTemplate, Sender, Template, TemplateVersion


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    list_display = ["name", "account", "country_code", "service", "entity_id", "status", "reviewed_at", "created_at"]
    list_filter = ["status", "country_code", "service", "account"]
    search_fields = ["name", "entity_id", "account__name"]
    readonly_fields = ["uid", "created_at", "updated_at", "reviewed_at"]
    raw_id_fields = ["created_by", "reviewed_by"]


class TemplateVersionInline(admin.TabularInline):
    model = TemplateVersion
    extra = 0
    fields = ["version", "body", "created_by", "created_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "alias", "account", "sender", "template_type", "status", "dlt_template_id", "updated_at"]
    list_filter = ["status", "template_type", "is_english", "account"]
    search_fields = ["name", "alias", "body", "dlt_template_id", "account__name"]
    readonly_fields = ["uid", "version", "created_at", "updated_at", "reviewed_at"]
    raw_id_fields = ["sender", "consent_template", "created_by", "reviewed_by"]
    inlines = [TemplateVersionInline]


@admin.register(TemplateVersion)
class TemplateVersionAdmin(admin.ModelAdmin):
    list_display = ["template", "version", "account", "created_by", "created_at"]
    list_filter = ["account"]
    search_fields = ["template__name", "body"]
    raw_id_fields = ["template", "created_by"]


@admin.register(BlockedTemplate)
class BlockedTemplateAdmin(admin.ModelAdmin):
    list_display = ["template_id", "account", "status", "created_at"]
    list_filter = ["status", "account"]
    search_fields = ["template_id", "account__name"]
