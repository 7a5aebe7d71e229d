"""Inbound numbers and keyword routes (GET /numbers, /numbers/{id}; /numbers/keywords CRUD).

Any member reads the account's numbers; platform staff assign a number to an account (`POST /numbers` with the
account's slug) and change or remove it. Account writers manage keyword routes of their own numbers and webhooks.
"""

from django.db import IntegrityError, transaction
from rest_framework import exceptions, serializers

from contacts.models import InboundNumber, KeywordRoute
from contacts.services_numbers import assign_number, check_keyword, check_route_target
from portal.api.fields import AccountObjectField
from portal.api.viewsets import AccountScopedViewSet
from portal.models import Account, Webhook


class NumberSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    account = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Account.objects.all(),
        write_only=True,
        help_text="Platform staff: the slug of the account the number is assigned to.",
    )
    messages = serializers.IntegerField(source="messages.count", read_only=True, help_text="Messages received.")

    class Meta:
        model = InboundNumber
        fields = ["id", "number", "country", "label", "is_active", "account", "messages", "created_at", "updated_at"]
        read_only_fields = ["country", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:  # a number stays with its account; staff remove it and assign it again
            fields["account"].read_only = True
            fields["number"].read_only = True
        return fields


class NumberViewSet(AccountScopedViewSet):
    """The account's inbound numbers; writes are platform staff's (403 for anyone else)."""

    queryset = InboundNumber.objects.all()
    serializer_class = NumberSerializer
    resource_name = "Inbound number"
    http_method_names = ["get", "post", "patch", "delete"]
    ordering_fields = ["number", "created_at"]
    ordering = ["number"]

    @staticmethod
    def _staff_only(request) -> None:
        if not request.user.is_staff:
            raise exceptions.PermissionDenied("Only platform staff assign, change or remove numbers.")

    def check_object_permissions(self, request, obj):
        """After the lookup, so another account's number stays a 404."""
        super().check_object_permissions(request, obj)
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            self._staff_only(request)

    def create(self, request, *args, **kwargs):
        self._staff_only(request)
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = assign_number(
            data["account"], data["number"], label=data.get("label", ""), actor=self.request.user
        )


class KeywordRouteSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    number = AccountObjectField(InboundNumber, lookup_name="number", required=False, default=None)
    webhook = AccountObjectField(Webhook, lookup_name="name", required=False, default=None)

    class Meta:
        model = KeywordRoute
        fields = ["id", "keyword", "number", "webhook", "reply_text", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        current = {}
        if self.instance is not None:
            current = {name: getattr(self.instance, name) for name in ("keyword", "webhook", "reply_text")}
        merged = current | attrs
        attrs["keyword"] = check_keyword(self.context["account"], merged.get("keyword", ""))
        check_route_target(merged.get("webhook"), merged.get("reply_text", ""))
        return attrs


class KeywordRouteViewSet(AccountScopedViewSet):
    """Keyword routes: a first word sent to the account's numbers (or one of them) → a webhook or a reply."""

    queryset = KeywordRoute.objects.select_related("number", "webhook")
    serializer_class = KeywordRouteSerializer
    resource_name = "Keyword route"
    http_method_names = ["get", "post", "patch", "delete"]
    ordering_fields = ["keyword", "created_at"]
    ordering = ["keyword"]

    def perform_create(self, serializer):
        self._saved(lambda: serializer.save(account=self.request.account))

    def perform_update(self, serializer):
        self._saved(serializer.save)

    @staticmethod
    def _saved(save) -> None:
        try:
            with transaction.atomic():
                save()
        except IntegrityError:
            raise exceptions.ValidationError(
                {"keyword": ["This keyword already has a route for this number."]}
            ) from None


def register(router) -> None:
    router.register("numbers/keywords", KeywordRouteViewSet, basename="keyword-route")
    router.register("numbers", NumberViewSet, basename="inbound-number")
