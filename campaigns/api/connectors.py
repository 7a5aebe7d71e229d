"""Connectors for platform staff: `GET/POST/PATCH /api/v2/sms/connectors` and `GET …/{id}/status`.

Settings are checked by the one home of each kind's settings (`campaigns.connectors.settings`); the password is
write-only: it is never in an answer, and a PATCH without it keeps the one stored.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from campaigns.connectors.settings import SettingsError, validate_settings
from campaigns.connectors.status import connector_status
from campaigns.models import Connector, ConnectorKind
from portal.api.responses import envelope
from portal.api.viewsets import PlatformStaffViewSet


class ConnectorSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    kind = serializers.ChoiceField(choices=ConnectorKind.choices, default=ConnectorKind.SIMULATOR)
    config = serializers.JSONField(required=False, help_text="Kind-specific settings (see the README).")
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=200,
        trim_whitespace=False,
        help_text="The upstream password (SMPP bind, HTTP {{password}}): write-only, kept when omitted.",
    )
    has_password = serializers.SerializerMethodField()

    class Meta:
        model = Connector
        fields = ["id", "name", "kind", "config", "password", "has_password", "is_active", "created_at"]
        read_only_fields = ["created_at"]

    def get_has_password(self, connector) -> bool:
        return bool(connector.secret)

    def validate(self, attrs):
        current = self.instance
        kind = attrs.get("kind", current.kind if current else ConnectorKind.SIMULATOR)
        if current is not None and "kind" in attrs and attrs["kind"] != current.kind:
            raise serializers.ValidationError({"kind": "The kind of a connector cannot change; add a new one."})
        config = attrs.get("config", current.config if current else {})
        if not isinstance(config, dict):
            raise serializers.ValidationError({"config": "Give an object of settings."})
        password = attrs.pop("password", None)
        try:
            attrs["config"] = validate_settings(kind, config, password, current=current)
        except SettingsError as exc:
            raise serializers.ValidationError(exc.errors) from None
        if password:
            attrs["secret"] = password
        return attrs


class ConnectorViewSet(PlatformStaffViewSet):
    resource_name = "Connector"
    serializer_class = ConnectorSerializer
    queryset = Connector.objects.order_by("name")
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(responses=dict, summary="Connector status: binds and counters (platform staff)")
    @action(detail=True, methods=["get"])
    def status(self, request, id=None):
        return envelope(connector_status(self.get_object()), "Connector Status")
