"""The route table for platform staff: `/api/v2/sms/routes` (list, create, read, change, delete).

A route is a country (and an optional number prefix) and a service, to connectors in the order to try them
(`campaigns.routing` applies it). `connectors` takes connector ids or names; `route_set` a route set name (empty:
the platform table). Empty country, prefix and service make the catch-all route.
"""

import phonenumbers
from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from campaigns.lookups import is_uuid
from campaigns.models import Connector, Route, RouteSet, Service
from campaigns.routing import set_steps
from portal.api.viewsets import PlatformStaffViewSet


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string"},
            {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}},
        ],
        "description": "A connector id or name in requests; {id, name} in answers.",
    }
)
class ConnectorReference(serializers.Field):
    """A connector given by id or name, shown as {id, name}."""

    def to_representation(self, connector):
        return {"id": str(connector.uid), "name": connector.name}

    def to_internal_value(self, value):
        text = str(value).strip()
        connector = Connector.objects.filter(uid=text).first() if is_uuid(text) else None
        connector = connector or Connector.objects.filter(name=text).first()
        if connector is None:
            raise serializers.ValidationError(f"No connector {text!r}.")
        return connector


class RouteSerializer(serializers.ModelSerializer):
    id = serializers.IntegerField(source="pk", read_only=True)
    route_set = serializers.SlugRelatedField(
        slug_field="name", queryset=RouteSet.objects.all(), required=False, allow_null=True
    )
    connectors = serializers.ListField(child=ConnectorReference(), min_length=1, max_length=10, source="connector_list")
    service = serializers.ChoiceField(choices=[("", "Any"), *Service.choices], required=False, allow_blank=True)

    class Meta:
        model = Route
        fields = ["id", "route_set", "country", "prefix", "service", "connectors", "is_active", "note", "updated_at"]
        read_only_fields = ["updated_at"]
        validators = []  # the table's uniqueness is checked by the database (see _save)

    def validate_country(self, value):
        value = (value or "").strip().upper()
        if value and value not in phonenumbers.SUPPORTED_REGIONS:
            raise serializers.ValidationError(f"{value!r} is not an ISO 3166 country code.")
        return value

    def validate_prefix(self, value):
        value = (value or "").strip().lstrip("+")
        if value and not (value.isascii() and value.isdigit()):
            raise serializers.ValidationError("Give the digits the number starts with, e.g. 9198.")
        return value

    def validate_connectors(self, value):
        if len({connector.pk for connector in value}) != len(value):
            raise serializers.ValidationError("A connector appears twice.")
        return value

    def _save(self, route: Route, connectors: list[Connector] | None) -> Route:
        try:
            with transaction.atomic():
                route.save()
                if connectors is not None:
                    set_steps(route, connectors)
        except IntegrityError:
            raise serializers.ValidationError(
                {"country": "A route for this country, prefix and service exists in this table."}
            ) from None
        return route

    def create(self, validated_data):
        connectors = validated_data.pop("connector_list")
        return self._save(Route(**validated_data), connectors)

    def update(self, route, validated_data):
        connectors = validated_data.pop("connector_list", None)
        for name, value in validated_data.items():
            setattr(route, name, value)
        return self._save(route, connectors)


class RouteViewSet(PlatformStaffViewSet):
    resource_name = "Route"
    serializer_class = RouteSerializer
    queryset = Route.objects.select_related("route_set").prefetch_related("steps__connector")
    lookup_field = "pk"
    lookup_value_regex = "[0-9]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
