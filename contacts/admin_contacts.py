"""Django admin of contacts, identifiers, tags, groups and segments (platform staff)."""

from django.contrib import admin
from django.db import transaction

from contacts.links import lock_for_delete
from contacts.models import Contact, ContactTag, Group, GroupMember, Identifier, Segment, Tag


class LockedDeleteAdmin(admin.ModelAdmin):
    """Deletes lock their rows before the links go, as `contacts.links` asks of every deleter."""

    def delete_model(self, request, obj):
        with transaction.atomic():
            lock_for_delete(type(obj).objects.filter(pk=obj.pk))
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            lock_for_delete(queryset)
            super().delete_queryset(request, queryset)


class LinkAdmin(admin.ModelAdmin):
    """Links are listed and can be deleted here; they are written through contacts, tags and groups, which
    lock what they link (`contacts.links`)."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class IdentifierInline(admin.TabularInline):
    model = Identifier
    fields = ["type", "value", "account"]
    extra = 0


@admin.register(Contact)
class ContactAdmin(LockedDeleteAdmin):
    list_display = [
        "phone",
        "identity",
        "first_name",
        "last_name",
        "email",
        "country",
        "number_type",
        "account",
        "created_at",
    ]
    list_filter = ["country", "number_type", "phone_valid", "gender", "account"]
    search_fields = ["phone", "identity", "email", "first_name", "last_name", "uid"]
    readonly_fields = ["uid", "created_at", "updated_at"]
    raw_id_fields = ["account"]
    inlines = [IdentifierInline]
    list_select_related = ["account"]
    show_full_result_count = False
    ordering = ["-id"]  # newest first through the primary key (contacts have no created_at index of their own)


@admin.register(Identifier)
class IdentifierAdmin(admin.ModelAdmin):
    list_display = ["type", "value", "contact", "account", "created_at"]
    list_filter = ["type", "account"]
    search_fields = ["value", "contact__phone", "uid"]
    raw_id_fields = ["account", "contact"]


@admin.register(Tag)
class TagAdmin(LockedDeleteAdmin):
    list_display = ["name", "account", "created_at"]
    list_filter = ["account"]
    search_fields = ["name", "uid"]


@admin.register(Group)
class GroupAdmin(LockedDeleteAdmin):
    list_display = ["name", "description", "account", "created_at"]
    list_filter = ["account"]
    search_fields = ["name", "description", "uid"]


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["name", "positive_tags_operator", "negative_tags_operator", "account", "created_at"]
    list_filter = ["positive_tags_operator", "negative_tags_operator", "account"]
    search_fields = ["name", "description", "uid"]
    filter_horizontal = ["positive_tags", "negative_tags", "groups"]


@admin.register(ContactTag)
class ContactTagAdmin(LinkAdmin):
    list_display = ["contact", "tag"]
    list_filter = ["tag__account"]
    search_fields = ["contact__phone", "tag__name"]
    raw_id_fields = ["contact", "tag"]
    show_full_result_count = False


@admin.register(GroupMember)
class GroupMemberAdmin(LinkAdmin):
    list_display = ["contact", "group"]
    list_filter = ["group__account"]
    search_fields = ["contact__phone", "group__name"]
    raw_id_fields = ["contact", "group"]
    show_full_result_count = False
