"""API: contacts (+ nested identifiers), tags, groups (+ members), segments (+ count and subscribers), bulk actions."""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import re_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from contacts import services
from contacts.audience import resolve_audience, segments_with_rules, with_contact_counts
from contacts.filtersets import (
    ContactFilterSet,
    GroupFilterSet,
    IdentifierFilterSet,
    SegmentFilterSet,
    TagFilterSet,
)
from contacts.models import (
    AttributeOperator,
    Contact,
    Gender,
    Group,
    Identifier,
    IdentifierType,
    Segment,
    Tag,
    TagOperator,
)
from portal.api.exceptions import Conflict
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.roles import WRITE, has_capability

UID_PATTERN = "[0-9a-fA-F-]{32,36}"
BULK_LIMIT_IDS = 10_000


@contextmanager
def service_errors():
    """Service exceptions as API errors: Django ValidationError → 422, ContactConflict → 409."""
    try:
        yield
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        raise serializers.ValidationError(detail) from None
    except services.ContactConflict as exc:
        raise Conflict(str(exc)) from None


class NameListField(serializers.ListField):
    """Names in, names out: written as a list of names (or ids), read from a many-to-many manager."""

    child = serializers.CharField(max_length=100)

    def to_representation(self, data):
        return sorted(item.name for item in data.all())


# --- contacts -------------------------------------------------------------------------------------------


class ContactSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    identity = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=40, help_text="Any common format; stored and returned as E.164.")
    gender = serializers.ChoiceField(choices=Gender.choices, required=False, allow_blank=True)
    attributes = serializers.DictField(required=False, help_text="Free values for template variables.")
    tags = NameListField(required=False, help_text="Tag names (missing tags are created).")
    groups = NameListField(required=False, help_text="Group names or ids.")

    class Meta:
        model = Contact
        fields = [
            "id",
            "identity",
            "phone",
            "country",
            "number_type",
            "phone_valid",
            "email",
            "first_name",
            "last_name",
            "gender",
            "birth_date",
            "postal_code",
            "company",
            "attributes",
            "tags",
            "groups",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["country", "number_type", "phone_valid", "created_at", "updated_at"]


class ContactViewSet(AccountScopedViewSet):
    """Contacts of the account: identity, E.164 phone, profile fields, attributes, tags and groups."""

    queryset = Contact.objects.prefetch_related("tags", "groups")
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    ordering_fields = ["created_at", "updated_at", "phone", "first_name", "last_name", "identity", "country"]
    ordering = ["-created_at", "-id"]
    lookup_value_regex = UID_PATTERN
    resource_name = "Contact"

    def perform_create(self, serializer):
        with service_errors():
            serializer.instance = services.create_contact(
                self.request.account, self.request.user, **serializer.validated_data
            )

    def perform_update(self, serializer):
        with service_errors():
            serializer.instance = services.update_contact(
                serializer.instance, self.request.user, **serializer.validated_data
            )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_contact(instance, self.request.user)


# --- identifiers ----------------------------------------------------------------------------------------


class IdentifierSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    contact = serializers.UUIDField(source="contact.uid", read_only=True)
    type = serializers.ChoiceField(choices=IdentifierType.choices)

    class Meta:
        model = Identifier
        fields = ["id", "contact", "type", "value", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class IdentifierViewSet(AccountScopedViewSet):
    """Identifiers of one contact (`/contacts/{id}/identifiers`) or of all contacts (`/contacts/identifiers`)."""

    queryset = Identifier.objects.select_related("contact")
    serializer_class = IdentifierSerializer
    filterset_class = IdentifierFilterSet
    ordering_fields = ["created_at", "type", "value"]
    lookup_url_kwarg = "iid"
    resource_name = "Identifier"

    def contact(self) -> Contact:
        if not hasattr(self, "_contact"):
            self._contact = get_object_or_404(Contact, account=self.request.account, uid=self.kwargs["id"])
        return self._contact

    def get_queryset(self):
        queryset = super().get_queryset()
        if "id" in self.kwargs:
            queryset = queryset.filter(contact=self.contact())
        return queryset

    def create(self, request, *args, **kwargs):
        """Another account's contact is a 404 before the body is read."""
        self.contact()
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        with service_errors():
            serializer.instance = services.save_identifier(
                self.contact(), self.request.user, **serializer.validated_data
            )

    def perform_update(self, serializer):
        data = {"type": serializer.instance.type, "value": serializer.instance.value, **serializer.validated_data}
        with service_errors():
            services.save_identifier(
                serializer.instance.contact, self.request.user, identifier=serializer.instance, **data
            )

    def perform_destroy(self, instance):
        services.delete_identifier(instance, self.request.user)


class AllIdentifiersViewSet(IdentifierViewSet):
    """`GET /contacts/identifiers`: identifiers of every contact of the account (filter[type|value|contact])."""

    @extend_schema(operation_id="contacts_identifiers_all")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)


# --- tags and groups ------------------------------------------------------------------------------------


class TagSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    contacts_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Tag
        fields = ["id", "name", "contacts_count", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class GroupSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    contacts_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Group
        fields = ["id", "name", "description", "contacts_count", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class NamedViewSet(AccountScopedViewSet):
    """CRUD of tags or groups with a contact count; deleting one keeps its contacts."""

    ordering_fields = ["name", "created_at", "contacts_count"]
    ordering = ["name"]

    def get_queryset(self):
        return with_contact_counts(super().get_queryset())

    def perform_create(self, serializer):
        with service_errors():
            serializer.instance = services.save_named(
                self.queryset.model, self.request.account, self.request.user, **serializer.validated_data
            )

    def perform_update(self, serializer):
        with service_errors():
            services.save_named(
                self.queryset.model,
                self.request.account,
                self.request.user,
                instance=serializer.instance,
                **serializer.validated_data,
            )

    def perform_destroy(self, instance):
        services.delete_named(instance, self.request.user)


class TagViewSet(NamedViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    filterset_class = TagFilterSet
    resource_name = "Tag"


class SelectionSerializer(serializers.Serializer):
    """Which contacts: `ids` (public ids), or `filter` (the contact list's filters, e.g. {"tag": "vip"})."""

    ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, allow_empty=False, max_length=BULK_LIMIT_IDS
    )
    filter = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)

    def validate(self, attrs):
        if ("ids" in attrs) == ("filter" in attrs):
            raise serializers.ValidationError({"ids": ["Give either ids or filter."]})
        return attrs


def selected_contacts(request, selection: dict):
    """The account's contacts a validated SelectionSerializer names (unknown or foreign ids are ignored)."""
    contacts = Contact.objects.filter(account=request.account)
    if "ids" in selection:
        return contacts.filter(uid__in=selection["ids"])
    filterset = ContactFilterSet(data=selection["filter"], queryset=contacts, request=request)
    unknown = sorted(set(selection["filter"]) - set(filterset.base_filters))
    if unknown:
        raise serializers.ValidationError({"filter": [f"Unknown filter: {', '.join(unknown)}."]})
    if not filterset.is_valid():
        raise serializers.ValidationError({"filter": [str(filterset.errors)]})
    return filterset.qs


class GroupViewSet(NamedViewSet):
    queryset = Group.objects.all()
    serializer_class = GroupSerializer
    filterset_class = GroupFilterSet
    resource_name = "Group"
    capabilities = {"members": "read"}

    def get_serializer_class(self):
        if self.action == "members" and self.request.method != "GET":
            return SelectionSerializer
        if self.action == "members":
            return ContactSerializer
        return super().get_serializer_class()

    @extend_schema(methods=["GET"], responses=ContactSerializer(many=True), filters=False)
    @extend_schema(methods=["POST", "DELETE"], request=SelectionSerializer, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get", "post", "delete"], url_path="contacts", filterset_class=None)
    def members(self, request, *args, **kwargs):
        """GET the group's contacts; POST adds, DELETE removes the contacts given by `ids` or `filter`."""
        group = self.get_object()
        if request.method == "GET":
            contacts = Contact.objects.filter(account=request.account, groups=group)
            contacts = contacts.prefetch_related("tags", "groups").order_by("-created_at", "-id")
            page = self.paginate_queryset(contacts)
            return self.get_paginated_response(ContactSerializer(page, many=True).data)
        if not has_capability(request.role, WRITE):
            self.permission_denied(request, message=f"Your role ({request.role}) may not do this.")
        selection = SelectionSerializer(data=request.data)
        selection.is_valid(raise_exception=True)
        contacts = selected_contacts(request, selection.validated_data)
        with service_errors():
            if request.method == "POST":
                added = services.add_to_group(request.account, request.user, contacts, group)
                return envelope({"added": added}, f"{added} contacts added to the group")
            removed = services.remove_from_group(request.account, request.user, contacts, group)
        return envelope({"removed": removed}, f"{removed} contacts removed from the group")


# --- segments -------------------------------------------------------------------------------------------


class ConditionSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=100)
    operator = serializers.ChoiceField(choices=AttributeOperator.choices, default=AttributeOperator.EQUALS)
    value = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class SegmentSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    positive_tags = NameListField(required=False)
    positive_tags_operator = serializers.ChoiceField(choices=TagOperator.choices, required=False)
    negative_tags = NameListField(required=False)
    negative_tags_operator = serializers.ChoiceField(choices=TagOperator.choices, required=False)
    groups = NameListField(required=False)
    conditions = ConditionSerializer(many=True, required=False)

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "description",
            "positive_tags",
            "positive_tags_operator",
            "negative_tags",
            "negative_tags_operator",
            "groups",
            "conditions",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "count" in self.context:
            data["count"] = self.context["count"]
        return data

    def rules(self, account, instance=None) -> dict:
        """Keyword arguments for `services.save_segment` from the validated data (PATCH keeps what is missing)."""
        data = self.validated_data
        current = services.segment_rules(instance) if instance else {}
        rules = {
            "name": data.get("name", getattr(instance, "name", "")),
            "description": data.get("description", getattr(instance, "description", "")),
            "positive_tags_operator": data.get(
                "positive_tags_operator", current.get("positive_tags_operator", TagOperator.ANY)
            ),
            "negative_tags_operator": data.get(
                "negative_tags_operator", current.get("negative_tags_operator", TagOperator.ANY)
            ),
            "conditions": data.get("conditions", current.get("conditions", [])),
        }
        for field in ("positive_tags", "negative_tags"):
            rules[field] = _known_tags(account, data.get(field, current.get(field, [])), field)
        rules["groups"] = services.groups_by_reference(account, data.get("groups", current.get("groups", [])))
        return rules


def _known_tags(account, names: list[str], field: str) -> list[Tag]:
    tags = services.tags_by_name(account, names, create=False)
    missing = sorted({name.strip().lower() for name in names} - {tag.name.lower() for tag in tags} - {""})
    if missing:
        raise serializers.ValidationError({field: [f"Unknown tag: {name}." for name in missing]})
    return tags


class SegmentViewSet(AccountScopedViewSet):
    """Segments: tag rules (any/all, positive and negative), optional groups and attribute conditions."""

    queryset = segments_with_rules()
    serializer_class = SegmentSerializer
    filterset_class = SegmentFilterSet
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]
    resource_name = "Segment"

    def get_serializer_class(self):
        return ContactSerializer if self.action == "subscribers" else super().get_serializer_class()

    def retrieve(self, request, *args, **kwargs):
        segment = self.get_object()
        count = resolve_audience(request.account, segments=[segment]).count()
        return envelope(SegmentSerializer(segment, context={"count": count}).data, "Segment Details")

    def perform_create(self, serializer):
        with service_errors():
            serializer.instance = services.save_segment(
                self.request.account, self.request.user, **serializer.rules(self.request.account)
            )

    def perform_update(self, serializer):
        instance = serializer.instance
        with service_errors():
            rules = serializer.rules(self.request.account, instance)
            serializer.instance = services.save_segment(
                self.request.account, self.request.user, segment=instance, **rules
            )
        serializer.instance = self.get_queryset().get(pk=instance.pk)

    def perform_destroy(self, instance):
        services.delete_segment(instance, self.request.user)

    @extend_schema(responses=ContactSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], filterset_class=None)
    def subscribers(self, request, *args, **kwargs):
        """The contacts the segment resolves to (add `exclude_opted_out=1` to leave out opted-out numbers)."""
        segment = self.get_object()
        exclude = request.query_params.get("exclude_opted_out") in ("1", "true", "yes")
        contacts = resolve_audience(request.account, segments=[segment], exclude_suppressed=exclude)
        page = self.paginate_queryset(contacts.prefetch_related("tags", "groups").order_by("-created_at", "-id"))
        return self.get_paginated_response(ContactSerializer(page, many=True).data)


# --- bulk actions ---------------------------------------------------------------------------------------


class BulkSerializer(SelectionSerializer):
    ACTIONS = ("tag", "untag", "group_add", "group_remove", "delete")

    action = serializers.ChoiceField(choices=ACTIONS)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    group = serializers.CharField(max_length=100, required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["action"] in ("tag", "untag") and not attrs.get("tags"):
            raise serializers.ValidationError({"tags": ["Give the tag names."]})
        if attrs["action"] in ("group_add", "group_remove") and not attrs.get("group"):
            raise serializers.ValidationError({"group": ["Give the group (id or name)."]})
        return attrs


class ContactBulkViewSet(AccountScopedViewSet):
    """`POST /contacts/bulk`: tag, untag, add to / remove from a group, or delete, by ids or by filter."""

    queryset = Contact.objects.all()
    serializer_class = BulkSerializer
    resource_name = "Contact"
    http_method_names = ["post"]

    @extend_schema(request=BulkSerializer, responses={200: OpenApiTypes.OBJECT})
    def create(self, request, *args, **kwargs):
        bulk = BulkSerializer(data=request.data)
        bulk.is_valid(raise_exception=True)
        data = bulk.validated_data
        contacts = selected_contacts(request, data)
        account, user = request.account, request.user
        with service_errors():
            result = self._run(data, account, user, contacts)
        return envelope(result, "Bulk action done")

    @staticmethod
    def _run(data: dict, account, user, contacts) -> dict:
        kind = data["action"]
        if kind == "tag":
            return {"tagged": services.add_tags(account, user, contacts, services.tags_by_name(account, data["tags"]))}
        if kind == "untag":
            tags = services.tags_by_name(account, data["tags"], create=False)
            return {"untagged": services.remove_tags(account, user, contacts, tags)}
        if kind == "delete":
            return {"deleted": services.delete_contacts(account, user, contacts)}
        group = services.groups_by_reference(account, [data["group"]])[0]
        if kind == "group_add":
            return {"added": services.add_to_group(account, user, contacts, group)}
        return {"removed": services.remove_from_group(account, user, contacts, group)}


def identifier_routes() -> list:
    """`/contacts/identifiers` (all, read) and `/contacts/{id}/identifiers[/{iid}]` (one contact's, CRUD)."""
    contact = rf"^contacts/(?P<id>{UID_PATTERN})/identifiers"
    return [
        re_path(r"^contacts/identifiers/?$", AllIdentifiersViewSet.as_view({"get": "list"}), name="identifier-all"),
        re_path(rf"{contact}/?$", IdentifierViewSet.as_view({"get": "list", "post": "create"}), name="identifier-list"),
        re_path(
            rf"{contact}/(?P<iid>[^/]+)/?$",
            IdentifierViewSet.as_view(
                {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
            ),
            name="identifier-detail",
        ),
    ]


def register(router) -> None:
    """Register the contacts resources on the app's API router (more specific prefixes first)."""
    router.register("contacts/tags", TagViewSet, basename="tag")
    router.register("contacts/groups", GroupViewSet, basename="group")
    router.register("contacts/segments", SegmentViewSet, basename="segment")
    router.register("contacts/bulk", ContactBulkViewSet, basename="contact-bulk")
    router.register("contacts", ContactViewSet, basename="contact")
