"""The SMPP gateway's credentials over the API: `/smpp/accounts` (list, create, view, PATCH, delete),
`POST …/{id}/rotate-password`, `GET …/{id}/sessions` (the sessions bound now) and `GET /smpp/bind-failures`.

Every rule lives in `campaigns.smpp_gateway.credentials`; its field errors answer 422. The password is in an answer
twice only: the create's and the rotation's, never again. Everyone in the account reads; only admins change.
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.decorators import action

from campaigns.models import SmppBindFailure, SmppCredential, SmppSession
from campaigns.smpp_gateway import credentials
from campaigns.smpp_gateway.sweeps import live_sessions, with_sessions_bound
from portal.api.input_guard import RejectNulMixin
from portal.api.responses import EnvelopeMixin, envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.api.webhooks import PublicIdLookupMixin
from portal.roles import MANAGE

PASSWORD_ONCE = "Copy the password now: it will not be shown again."


class SmppCredentialChangeSerializer(serializers.Serializer):
    """What a PATCH may change (the system_id never changes: binds name it). Limits are checked against the
    platform maximums (`SMPP_MAX_BIND_LIMIT`, `SMPP_MAX_THROUGHPUT`, `SMPP_MAX_WINDOW`)."""

    label = serializers.CharField(required=False, allow_blank=True, help_text="A name for your own use.")
    allowed_ips = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="IPs and CIDRs allowed to bind; empty: any."
    )
    bind_limit = serializers.IntegerField(required=False, help_text="Sessions bound at once, on all servers.")
    throughput = serializers.IntegerField(required=False, help_text="Submits per second over all its sessions.")
    window = serializers.IntegerField(required=False, help_text="Unanswered deliver_sm per session.")
    is_active = serializers.BooleanField(required=False, help_text="An inactive credential does not bind.")


class SmppCredentialCreateSerializer(SmppCredentialChangeSerializer):
    system_id = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="1 to 15 printable ASCII characters, unique on the platform; blank: made from the account's slug.",
    )


class SmppCredentialSerializer(serializers.ModelSerializer):
    """A credential as the API shows it: never its password."""

    id = serializers.UUIDField(source="uid", read_only=True)
    allowed_ips = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_by = serializers.CharField(source="created_by.email", read_only=True, default=None)
    sessions_bound = serializers.SerializerMethodField(help_text="Sessions bound now.")

    class Meta:
        model = SmppCredential
        fields = [
            "id",
            "system_id",
            "label",
            "allowed_ips",
            "bind_limit",
            "throughput",
            "window",
            "is_active",
            "sessions_bound",
            "last_bound_at",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_sessions_bound(self, credential) -> int:
        annotated = getattr(credential, "sessions_bound", None)  # every queryset of the view annotates it
        return annotated if annotated is not None else live_sessions().filter(credential=credential).count()


class IssuedSmppCredentialSerializer(SmppCredentialSerializer):
    """The answer of a create or a rotation: the credential with its password, shown this once."""

    password = serializers.CharField(read_only=True, help_text="The SMPP password; never shown again.")

    class Meta(SmppCredentialSerializer.Meta):
        fields = [*SmppCredentialSerializer.Meta.fields, "password"]
        read_only_fields = fields


class SmppSessionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    system_id = serializers.CharField(source="credential.system_id", read_only=True)
    rate = serializers.FloatField(read_only=True, help_text="Submits per second over the last interval.")

    class Meta:
        model = SmppSession
        fields = [
            "id",
            "system_id",
            "address",
            "bind_type",
            "tls",
            "interface_version",
            "bound_at",
            "last_seen_at",
            "submitted",
            "refused",
            "delivered",
            "rate",
        ]
        read_only_fields = fields


class SmppBindFailureSerializer(serializers.ModelSerializer):
    class Meta:
        model = SmppBindFailure
        fields = ["system_id", "address", "reason", "command_status", "created_at"]
        read_only_fields = fields


def _issued(view, issued: credentials.IssuedCredential) -> dict:
    return dict(view.get_serializer(issued.credential).data, password=issued.password)


@extend_schema_view(
    create=extend_schema(
        request=SmppCredentialCreateSerializer,
        responses={201: IssuedSmppCredentialSerializer},
        summary="Issue an SMPP credential (its password shown once)",
    ),
    partial_update=extend_schema(
        request=SmppCredentialChangeSerializer, responses=SmppCredentialSerializer, summary="Change a credential"
    ),
    destroy=extend_schema(summary="Delete a credential: its system_id no longer binds"),
)
class SmppCredentialViewSet(PublicIdLookupMixin, AccountScopedViewSet):
    """SMPP credentials (system_id/password) the account's applications bind to the gateway with."""

    queryset = SmppCredential.objects.select_related("created_by")
    serializer_class = SmppCredentialSerializer
    resource_name = "SMPP Account"
    filterset_fields = ["system_id", "is_active"]
    ordering_fields = ["created_at", "system_id"]
    http_method_names = ["get", "post", "patch", "delete"]
    capabilities = {
        "create": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
        "rotate_password": MANAGE,
    }

    def get_queryset(self):
        return with_sessions_bound(super().get_queryset())

    def create(self, request, *args, **kwargs):
        serializer = SmppCredentialCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        issued = credentials.issue_credential(request.account, acting_user=request.user, **fields)
        return envelope(_issued(self, issued), f"SMPP Account Saved Successfully. {PASSWORD_ONCE}", status=201)

    def partial_update(self, request, *args, **kwargs):
        credential = self.get_object()
        serializer = SmppCredentialChangeSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        credentials.update_credential(credential, dict(serializer.validated_data), acting_user=request.user)
        return envelope(self.get_serializer(self.get_object()).data, "SMPP Account Updated Successfully")

    def destroy(self, request, *args, **kwargs):
        credentials.delete_credential(self.get_object(), acting_user=request.user)
        return envelope([], "SMPP Account Deleted Successfully")

    @extend_schema(request=None, responses=IssuedSmppCredentialSerializer, summary="A new password (shown once)")
    @action(detail=True, methods=["post"], url_path="rotate-password")
    def rotate_password(self, request, id=None):
        issued = credentials.rotate_password(self.get_object(), acting_user=request.user)
        return envelope(_issued(self, issued), f"SMPP Password Rotated. {PASSWORD_ONCE}")

    @extend_schema(responses=SmppSessionSerializer(many=True), summary="Sessions bound now with this credential")
    @action(detail=True, methods=["get"], pagination_class=None)
    def sessions(self, request, id=None):
        bound = live_sessions().filter(credential=self.get_object()).select_related("credential")
        return envelope(SmppSessionSerializer(bound.order_by("-bound_at"), many=True).data, "SMPP Sessions")


class SmppBindFailureListView(RejectNulMixin, EnvelopeMixin, generics.ListAPIView):
    """Refused binds naming one of the account's system_ids (kept `SMPP_BIND_FAILURE_KEEP_DAYS`), newest first."""

    queryset = SmppBindFailure.objects.all()
    serializer_class = SmppBindFailureSerializer
    resource_name = "SMPP Bind Failure"
    filterset_fields = ["system_id", "address"]
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self):
        return super().get_queryset().filter(account=self.request.account)
