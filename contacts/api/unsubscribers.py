"""API: `/sms/unsubscribers` (CRUD, clean-all and its restore, import) and `/sms/inbound` (receive, list)."""

from contextlib import contextmanager
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import re_path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from contacts.api.inbound_auth import HasInboundToken, InboundRateThrottle, InboundTokenAuthentication
from contacts.filtersets_unsubscribers import InboundMessageFilterSet, UnsubscriberFilterSet
from contacts.importing.errors import ImportFileError
from contacts.models.imports import ImportState
from contacts.models.unsubscribers import (
    InboundMessage,
    InboundSettings,
    Unsubscriber,
    UnsubscriberSource,
)
from contacts.services_inbound import receive_inbound
from contacts.services_unsubscribers import (
    OPT_OUT_CLEANUP,
    DuplicateOptOut,
    add_unsubscriber,
    clean_all,
    delete_unsubscriber,
    rotate_inbound_token,
    settings_for,
    update_settings,
    update_unsubscriber,
)
from contacts.unsubscriber_import import import_summary, start_unsubscriber_import
from portal.api.cleanup import CLEAN_SCHEMA, clean_response, cleanup_routes
from portal.api.exceptions import Conflict, PayloadTooLarge
from portal.api.responses import envelope
from portal.api.viewsets import AccountAPIView, AccountScopedViewSet
from portal.roles import MANAGE, WRITE


@contextmanager
def service_errors():
    """Service exceptions as API errors: validation → 422, DuplicateOptOut → 409, an oversized file → 413."""
    try:
        yield
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        raise serializers.ValidationError(detail) from None
    except DuplicateOptOut as exc:
        raise Conflict(str(exc)) from None
    except ImportFileError as exc:
        if exc.code == "too_large":
            raise PayloadTooLarge(exc.message) from None
        raise serializers.ValidationError({"file": [exc.message]}) from None


class UnsubscriberSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    iso = serializers.CharField(source="country", read_only=True)
    receiver = serializers.CharField(max_length=40)
    type = serializers.CharField(required=False, help_text="all, sender, product (or service), tag.")
    value = serializers.CharField(required=False, allow_blank=True, max_length=100)
    created_by = serializers.CharField(source="created_by.email", read_only=True, default=None)

    class Meta:
        model = Unsubscriber
        fields = ["id", "iso", "receiver", "type", "value", "source", "created_by", "created_at", "updated_at"]
        read_only_fields = ["source", "created_at", "updated_at"]


class UnsubscriberImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    column = serializers.CharField(allow_blank=True)
    value = serializers.CharField(allow_blank=True)
    code = serializers.CharField()
    reason = serializers.CharField()


class UnsubscriberImportSummarySerializer(serializers.Serializer):
    """What `import_summary` answers: the import's state, counts and first 100 row errors."""

    id = serializers.UUIDField()
    file_name = serializers.CharField()
    state = serializers.CharField()
    progress = serializers.IntegerField()
    rows_read = serializers.IntegerField()
    created = serializers.IntegerField()
    skipped = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    failed = serializers.IntegerField()
    error = serializers.CharField(allow_blank=True)
    errors = UnsubscriberImportErrorSerializer(many=True)


class UnsubscriberViewSet(AccountScopedViewSet):
    """Opt-outs of the account. `DELETE` on the list deletes them all into a restorable clean-up batch."""

    queryset = Unsubscriber.objects.select_related("created_by")
    serializer_class = UnsubscriberSerializer
    filterset_class = UnsubscriberFilterSet
    ordering_fields = ["created_at", "receiver", "type", "value"]
    resource_name = "Unsubscriber"
    ACTION_MESSAGES = {
        "list": "Unsubscribers list",
        "retrieve": "Unsubscribers data",
        "create": "Receiver added successfully",
        "update": "Receiver updated successfully",
        "partial_update": "Receiver updated successfully",
        "destroy": "Deleted Successfully",
        "clean": "Deleted Successfully",
        "import_file": "Receivers accepted for import",
    }

    def perform_create(self, serializer):
        data = serializer.validated_data
        with service_errors():
            unsubscriber, created = add_unsubscriber(
                self.request.account,
                self.request.user,
                receiver=data["receiver"],
                type=data.get("type"),
                value=data.get("value"),
                source=UnsubscriberSource.API,
            )
        if not created:
            raise Conflict(f"{unsubscriber.receiver} already has this opt-out (id {unsubscriber.uid}).")
        serializer.instance = unsubscriber

    def perform_update(self, serializer):
        data = serializer.validated_data
        with service_errors():
            serializer.instance = update_unsubscriber(
                serializer.instance,
                self.request.user,
                receiver=data.get("receiver"),
                type=data.get("type"),
                value=data.get("value"),
            )

    def perform_destroy(self, instance):
        delete_unsubscriber(instance, self.request.user)

    @extend_schema(
        operation_id="sms_unsubscribers_clean",
        summary="Delete every opt-out (restorable for 30 days)",
        description=(
            "No parameters. The opt-outs go to a clean-up batch (id in the `Clean-Batch` header, listed by "
            "`GET /sms/unsubscribers/clean-batches`) that `POST /sms/unsubscribers/restore-clean/{id}` puts back."
        ),
        **CLEAN_SCHEMA,
    )
    def clean(self, request):
        return clean_response(clean_all(request.account, request.user))

    @extend_schema(
        operation_id="sms_unsubscribers_import",
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "type": {"type": "string", "enum": ["all", "sender", "product", "tag"]},
                    "value": {"type": "string"},
                },
                "required": ["file"],
            }
        },
        responses={202: UnsubscriberImportSummarySerializer},
    )
    def import_file(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError(
                {"file": ["Upload a txt, csv, xls or xlsx file as multipart field `file`."]}
            )
        with service_errors():
            job = start_unsubscriber_import(
                request.account, request.user, upload, type=request.data.get("type"), value=request.data.get("value")
            )
        if job.state == ImportState.FAILED:
            raise serializers.ValidationError({"file": [job.error_message]})
        return envelope(import_summary(job), "Receivers accepted for import", status=202)


# --- inbound --------------------------------------------------------------------------------------------


class AccountDateTimeField(serializers.DateTimeField):
    """ISO 8601 with offset, or `YYYY-MM-DD HH:MM:SS` in the account's time zone."""

    def to_internal_value(self, value):
        parsed = parse_datetime(str(value).strip()) if value not in (None, "") else None
        if parsed is None:
            raise serializers.ValidationError("Use ISO 8601 (2024-05-01T10:00:00+05:30) or YYYY-MM-DD HH:MM:SS.")
        if timezone.is_naive(parsed):
            account = self.context["account"]
            parsed = timezone.make_aware(parsed, ZoneInfo(account.time_zone))
        return parsed


class InboundInSerializer(serializers.Serializer):
    """Fields a connector posts; `from` is a Python keyword, hence get_fields."""

    def get_fields(self):
        return {
            "from": serializers.CharField(max_length=32),
            "to": serializers.CharField(max_length=32, required=False, allow_blank=True, default=""),
            "text": serializers.CharField(required=False, allow_blank=True, trim_whitespace=False, default=""),
            "received_at": AccountDateTimeField(required=False, allow_null=True, default=None),
            "parts": serializers.IntegerField(required=False, min_value=1, max_value=255, default=1),
            "provider_id": serializers.CharField(max_length=100, required=False, allow_blank=True, default=""),
        }


class InboundMessageSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    vars()["from"] = serializers.CharField(
        source="from_number", read_only=True, help_text="E.164 when it could be parsed, else as received."
    )
    number_id = serializers.UUIDField(
        source="number.uid", read_only=True, allow_null=True, default=None, help_text="The account's number."
    )

    class Meta:
        model = InboundMessage
        fields = [
            "id",
            "from",
            "to",
            "number_id",
            "text",
            "received_at",
            "parts",
            "provider_id",
            "keyword",
            "action",
            "reply_text",
            "reply_status",
            "created_at",
        ]


class InboundMessageViewSet(AccountScopedViewSet):
    """GET lists inbound messages (API token); POST stores one (the account's inbound token, not an API token)."""

    queryset = InboundMessage.objects.all()
    serializer_class = InboundMessageSerializer
    filterset_class = InboundMessageFilterSet
    ordering_fields = ["received_at", "created_at"]
    ordering = ["-received_at"]
    http_method_names = ["get", "post", "head", "options"]
    resource_name = "Inbound message"

    def _is_inbound_post(self) -> bool:
        """True for the connector's POST (also while the schema is generated, when there is no request)."""
        action = getattr(self, "action", None)
        if action is not None:
            return action == "create"
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self):
        if self._is_inbound_post():
            return [InboundTokenAuthentication()]
        return super().get_authenticators()

    def get_permissions(self):
        if self._is_inbound_post():
            return [HasInboundToken()]
        return super().get_permissions()

    def get_throttles(self):
        if self._is_inbound_post():
            return [InboundRateThrottle()]
        return super().get_throttles()

    @extend_schema(request=InboundInSerializer, responses={201: InboundMessageSerializer})
    def create(self, request, *args, **kwargs):
        incoming = InboundInSerializer(data=request.data, context={"account": request.account})
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        result = receive_inbound(
            request.account,
            from_number=data["from"],
            to=data["to"],
            text=data["text"],
            received_at=data["received_at"],
            parts=data["parts"],
            provider_id=data["provider_id"],
        )
        body = InboundMessageSerializer(result.message).data
        if result.created:
            return envelope(body, "Inbound message received", status=201)
        return envelope(body, "Inbound message already received")


class OptOutSettingsSerializer(serializers.ModelSerializer):
    stop_words = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    start_words = serializers.ListField(child=serializers.CharField(max_length=40), required=False)
    token_prefix = serializers.SerializerMethodField()

    class Meta:
        model = InboundSettings
        fields = [
            "stop_words",
            "start_words",
            "scope",
            "send_confirmation",
            "confirmation_text",
            "reply_sender",
            "token_prefix",
            "token_rotated_at",
        ]
        read_only_fields = ["token_rotated_at"]

    def get_token_prefix(self, settings) -> str | None:
        return f"in_{settings.token_prefix}_" if settings.token_prefix else None


class IssuedInboundTokenSerializer(OptOutSettingsSerializer):
    """The answer of a rotation: the settings and the new inbound token, shown this once."""

    token = serializers.CharField(read_only=True, help_text="The inbound token `in_<prefix>_<secret>`.")

    class Meta(OptOutSettingsSerializer.Meta):
        fields = [*OptOutSettingsSerializer.Meta.fields, "token"]


class OptOutSettingsView(AccountAPIView):
    """`GET`/`PATCH /sms/inbound/settings` (admins change them); `POST` rotates the inbound token (shown once)."""

    resource_name = "Opt-out settings"
    capabilities = {"PATCH": MANAGE, "POST": MANAGE}

    @extend_schema(responses=OptOutSettingsSerializer)
    def get(self, request):
        return envelope(OptOutSettingsSerializer(settings_for(request.account)).data, "Opt-out settings")

    @extend_schema(request=OptOutSettingsSerializer, responses=OptOutSettingsSerializer)
    def patch(self, request):
        incoming = OptOutSettingsSerializer(settings_for(request.account), data=request.data, partial=True)
        incoming.is_valid(raise_exception=True)
        with service_errors():
            settings = update_settings(request.account, request.user, **incoming.validated_data)
        return envelope(OptOutSettingsSerializer(settings).data, "Opt-out settings updated")

    @extend_schema(
        operation_id="sms_inbound_settings_rotate_token",
        request=None,
        responses={201: IssuedInboundTokenSerializer},
        summary="Issue a new inbound token (shown once; the old one stops working)",
    )
    def post(self, request):
        raw = rotate_inbound_token(request.account, request.user)
        data = dict(OptOutSettingsSerializer(settings_for(request.account)).data, token=raw)
        return envelope(data, "Inbound token created. Copy it now: it will not be shown again.", status=201)


def _list_route(prefix: str, viewset, actions: dict, name: str):
    return re_path(rf"^{prefix}/?$", viewset.as_view(actions), name=name)


urlpatterns = [
    re_path(
        r"^sms/unsubscribers/import/?$",
        UnsubscriberViewSet.as_view({"post": "import_file"}),
        name="unsubscriber-import",
    ),
    *cleanup_routes("sms/unsubscribers", OPT_OUT_CLEANUP.name, capability=WRITE, name="unsubscriber"),
    _list_route(
        "sms/unsubscribers",
        UnsubscriberViewSet,
        {"get": "list", "post": "create", "delete": "clean"},
        "unsubscriber-list",
    ),
    re_path(
        r"^sms/unsubscribers/(?P<id>[^/]+)/?$",
        UnsubscriberViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="unsubscriber-detail",
    ),
    re_path(r"^sms/inbound/settings/?$", OptOutSettingsView.as_view(), name="inbound-settings"),
    _list_route("sms/inbound", InboundMessageViewSet, {"get": "list", "post": "create"}, "inbound-list"),
    re_path(
        r"^sms/inbound/(?P<id>[^/]+)/?$", InboundMessageViewSet.as_view({"get": "retrieve"}), name="inbound-detail"
    ),
]
