"""Endpoints of the portal itself: who am I, and API tokens."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, serializers

from portal.api.responses import envelope
from portal.api.viewsets import AccountAPIView, AccountScopedViewSet
from portal.caps import set_caps
from portal.ip_lists import clean_allowed_ips
from portal.models import SPENDING_CAP_FIELDS, ApiToken
from portal.roles import CAPABILITIES, MANAGE, Role
from portal.tokens import issue_token, revoke_token


class MeView(AccountAPIView):
    resource_name = "Me"

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="The token's account, user, role and scopes")
    def get(self, request):
        account, token = request.account, request.token
        scopes = sorted(cap for cap, roles in CAPABILITIES.items() if request.role in roles)
        if token is not None and token.read_only:
            scopes = ["read"]
        data = {
            "account": {
                "id": str(account.uid),
                "name": account.name,
                "slug": account.slug,
                "status": account.status,
                "default_country": account.default_country,
                "time_zone": account.time_zone,
                "currency": account.currency,
                "balance": str(account.balance),
            },
            "user": {"email": request.user.email, "username": request.user.get_username()},
            "role": request.role,
            "scopes": scopes,
            "token": None
            if token is None
            else {
                "id": str(token.uid),
                "name": token.name,
                "prefix": token.display_prefix,
                "read_only": token.read_only,
            },
        }
        return envelope(data, "Authenticated")


class ApiTokenSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    prefix = serializers.CharField(source="display_prefix", read_only=True)
    user = serializers.CharField(source="user.email", read_only=True)
    allowed_ips = serializers.ListField(child=serializers.CharField(), required=False)
    state = serializers.ChoiceField(choices=["active", "expired", "revoked"], read_only=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "user",
            "read_only",
            "allowed_ips",
            "expires_at",
            "state",
            "is_active",
            "last_used_at",
            "last_used_ip",
            "created_at",
            *SPENDING_CAP_FIELDS,
        ]
        read_only_fields = ["is_active", "last_used_at", "last_used_ip", "created_at"]

    def validate_allowed_ips(self, value):
        try:
            return clean_allowed_ips(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


class IssuedTokenSerializer(ApiTokenSerializer):
    """The answer of a create: the token itself, shown this once."""

    token = serializers.CharField(read_only=True, help_text="The token `cp_<prefix>_<secret>`; never shown again.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]


class TokenCapsSerializer(serializers.ModelSerializer):
    """PATCH of a token: its spending caps (null: no cap), account admins only."""

    class Meta:
        model = ApiToken
        fields = list(SPENDING_CAP_FIELDS)


def _refuse_caps_unless_admin(request) -> None:
    """Spending caps are the account admin's: another role naming one (even to lower it) gets a 403."""
    if request.role != Role.ADMIN and any(name in request.data for name in SPENDING_CAP_FIELDS):
        raise exceptions.PermissionDenied("Only account admins can set spending caps.")


SOFT_REVOCATION = (
    "Revocation is soft: a revoked token stops authenticating at once but stays listed and readable, with "
    "`state` `revoked` and `is_active` false, so its use can still be audited."
)


@extend_schema_view(
    list=extend_schema(description=SOFT_REVOCATION),
    retrieve=extend_schema(description=SOFT_REVOCATION),
    create=extend_schema(responses={201: IssuedTokenSerializer}, summary="Issue a token (shown once)"),
    destroy=extend_schema(summary="Revoke a token", description=SOFT_REVOCATION),
)
class ApiTokenViewSet(AccountScopedViewSet):
    """Tokens of the account: admins see all; other roles see and manage their own. Admins set spending caps
    (on create, or PATCH with the caps only)."""

    queryset = ApiToken.objects.select_related("user")
    serializer_class = ApiTokenSerializer
    resource_name = "Token"
    http_method_names = ["get", "post", "patch", "delete"]
    capabilities = {"create": "read", "destroy": "read", "partial_update": MANAGE}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.role != Role.ADMIN:
            queryset = queryset.filter(user=self.request.user)
        return queryset

    def create(self, request, *args, **kwargs):
        _refuse_caps_unless_admin(request)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        read_only = serializer.validated_data.get("read_only", False) or request.role == Role.VIEWER
        issued = issue_token(
            request.account,
            request.user,
            serializer.validated_data["name"],
            read_only=read_only,
            expires_at=serializer.validated_data.get("expires_at"),
            allowed_ips=serializer.validated_data.get("allowed_ips", []),
            caps={
                name: serializer.validated_data[name]
                for name in SPENDING_CAP_FIELDS
                if name in serializer.validated_data
            },
        )
        data = dict(self.get_serializer(issued.token).data, token=issued.raw)
        return envelope(data, "Token Saved Successfully. Copy it now: it will not be shown again.", status=201)

    @extend_schema(request=TokenCapsSerializer, responses=ApiTokenSerializer, summary="Set a token's spending caps")
    def partial_update(self, request, *args, **kwargs):
        token = self.get_object()
        serializer = TokenCapsSerializer(token, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        set_caps(token, serializer.validated_data, actor=request.user)
        return envelope(self.get_serializer(token).data, "Token Caps Saved")

    def destroy(self, request, *args, **kwargs):
        token = self.get_object()
        revoke_token(token, acting_user=request.user)
        return envelope([], "Token Revoked Successfully")
