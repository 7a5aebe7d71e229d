"""API: `/webhooks` (CRUD with soft delete, restore, ping, verify, rotate-secret, deliveries, redeliver-failed),
`/webhooks/deliveries` (log, redeliver) and `/subscriptions`."""

import uuid
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action

from portal.api.exceptions import Conflict
from portal.api.filters import bracket_params
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.models import Subscription, Webhook, WebhookDelivery
from portal.roles import MANAGE
from portal.webhooks import registry, services, validation, verification
from portal.webhooks.filtersets import DeliveryFilterSet, SubscriptionFilterSet, WebhookFilterSet

SECRET_ONCE = "Copy the secret now: it will not be shown again."


@contextmanager
def service_errors():
    """Django ValidationError → 422; an action on an inactive webhook → 409."""
    try:
        yield
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
    except services.WebhookInactive as exc:
        raise Conflict(str(exc)) from None


class PublicIdLookupMixin:
    """An id that is not a UUID is simply not found (404), never a validation error."""

    def get_object(self):
        try:
            uuid.UUID(str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)))
        except ValueError:
            raise exceptions.NotFound() from None
        return super().get_object()


class WebhookSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    secret = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=200)
    status = serializers.IntegerField(required=False, min_value=0, max_value=1)
    custom_headers = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    custom_params = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    custom_form = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)
    secret_rotation_ends_at = serializers.DateTimeField(source="previous_secret_expires_at", read_only=True)
    token = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Validation key: when set, nothing is delivered until the endpoint answers the challenge handshake.",
    )
    send_bearer = serializers.BooleanField(
        required=False, help_text="Also send the secret as Authorization: Bearer <secret>, beside the signature."
    )
    verification = serializers.ChoiceField(
        choices=Webhook.Verification.choices,
        read_only=True,
        help_text="not_required (no validation key), pending or failed (deliveries held), verified.",
    )

    class Meta:
        model = Webhook
        fields = [
            "id",
            "name",
            "uri",
            "secret",
            "status",
            "token",
            "send_bearer",
            "verification",
            "verified_at",
            "verification_checked_at",
            "verification_error",
            "timeout_seconds",
            "kind",
            "custom_method",
            "custom_headers",
            "custom_params",
            "custom_body_type",
            "custom_body",
            "custom_form",
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "last_success_at",
            "last_failure_at",
            "secret_rotation_ends_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "last_success_at",
            "last_failure_at",
            "verified_at",
            "verification_checked_at",
            "verification_error",
        ]
        extra_kwargs = {"name": {"required": True}, "uri": {"required": True}}

    def validate_secret(self, value):
        if not value:
            return None
        with service_errors():
            return validation.clean_secret(value)

    def validate(self, attrs):
        current = None
        if self.instance is not None:
            current = {field: getattr(self.instance, field) for field in validation.WEBHOOK_FIELDS}
        secret = attrs.pop("secret", None)
        try:
            cleaned = validation.clean_webhook(attrs, current)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        cleaned["secret"] = secret
        return cleaned


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    webhook_id = serializers.UUIDField(source="webhook.uid", read_only=True)
    event_id = serializers.UUIDField(source="event_uid", read_only=True)
    event = serializers.CharField(source="event_name", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "event_id",
            "event",
            "identity",
            "state",
            "attempt_count",
            "next_attempt_at",
            "last_attempt_at",
            "last_status_code",
            "duration_ms",
            "error",
            "request_excerpt",
            "response_excerpt",
            "attempts",
            "payload",
            "created_at",
        ]
        read_only_fields = fields


class WebhookViewSet(PublicIdLookupMixin, AccountScopedViewSet):
    """Webhooks of the account. Writes need the admin role; the secret is returned only when set."""

    queryset = Webhook.objects.all()
    serializer_class = WebhookSerializer
    filterset_class = WebhookFilterSet
    resource_name = "Webhook"
    ordering_fields = ["created_at", "name", "status"]
    capabilities = {
        "create": MANAGE,
        "update": MANAGE,
        "partial_update": MANAGE,
        "destroy": MANAGE,
        "restore": MANAGE,
        "ping": MANAGE,
        "verify": MANAGE,
        "rotate_secret": MANAGE,
        "redeliver_failed": MANAGE,
    }

    def filter_queryset(self, queryset):
        """`filter[...]` applies to the list; the delivery log reads its own filters."""
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cleaned = dict(serializer.validated_data)
        secret = cleaned.pop("secret") or validation.clean_secret(None)
        created = services.create_webhook(request.account, cleaned, secret=secret, acting_user=request.user)
        data = dict(self.get_serializer(created.webhook).data, secret=created.secret)
        return envelope(data, f"Webhook Saved Successfully. {SECRET_ONCE}", status=201)

    def update(self, request, *args, **kwargs):
        webhook = self.get_object()
        serializer = self.get_serializer(webhook, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        cleaned = dict(serializer.validated_data)
        new_secret = cleaned.pop("secret")
        with service_errors():
            services.update_webhook(webhook, cleaned, acting_user=request.user)
        data = dict(self.get_serializer(webhook).data)
        message = "Webhook Updated Successfully"
        if new_secret:
            data["secret"] = services.rotate_secret(webhook, new_secret=new_secret, acting_user=request.user)
            data["secret_rotation_ends_at"] = webhook.previous_secret_expires_at
            message = f"{message}. The previous secret keeps signing until the rotation ends. {SECRET_ONCE}"
        return envelope(data, message)

    def destroy(self, request, *args, **kwargs):
        services.delete_webhook(self.get_object(), acting_user=request.user)
        return envelope([], "Webhook Deleted Successfully")

    @extend_schema(request=None, summary="Restore a deleted or disabled webhook (status → active)")
    @action(detail=True, methods=["post"])
    def restore(self, request, id=None):
        webhook = services.restore_webhook(self.get_object(), acting_user=request.user)
        return envelope(self.get_serializer(webhook).data, "Webhook Restored Successfully")

    @extend_schema(request=None, responses=DeliverySerializer, summary="Send a webhook:ping test event now")
    @action(detail=True, methods=["post"])
    def ping(self, request, id=None):
        sent = services.send_test_event(self.get_object(), acting_user=request.user)
        outcome = "Test Event Delivered" if sent.state == WebhookDelivery.State.SUCCEEDED else "Test Event Failed"
        return envelope(DeliverySerializer(sent).data, outcome)

    @extend_schema(
        request=None,
        responses=WebhookSerializer,
        summary="Run the challenge handshake now (POST ?token=<key> with {validation_key, challenge})",
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, id=None):
        """409 without a validation key; otherwise 200 with the outcome in `verification`/`verification_error`."""
        webhook = verification.verify_webhook(self.get_object(), acting_user=request.user)
        if webhook.verification_error:
            message = f"Webhook Verification Failed: {webhook.verification_error}"
        else:
            message = "Webhook Verified"
        return envelope(self.get_serializer(webhook).data, message)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="Rotate the signing secret (with overlap)")
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, id=None):
        webhook = self.get_object()
        secret = services.rotate_secret(webhook, acting_user=request.user)
        data = {"id": str(webhook.uid), "secret": secret, "secret_rotation_ends_at": webhook.previous_secret_expires_at}
        return envelope(data, f"Secret Rotated Successfully. {SECRET_ONCE}")

    @extend_schema(
        operation_id="webhooks_delivery_log", responses=DeliverySerializer(many=True), summary="Delivery log"
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, id=None):
        webhook = self.get_object()
        queryset = WebhookDelivery.objects.filter(webhook=webhook).select_related("webhook")
        filterset = DeliveryFilterSet(bracket_params(request.query_params), queryset=queryset)
        if not filterset.is_valid():
            raise serializers.ValidationError({f"filter[{k}]": v for k, v in filterset.errors.items()})
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="Queue every failed delivery again")
    @action(detail=True, methods=["post"], url_path="redeliver-failed")
    def redeliver_failed(self, request, id=None):
        with service_errors():
            count = services.redeliver_failed(self.get_object(), acting_user=request.user)
        return envelope({"requeued": count}, f"{count} Deliveries Queued Again")

    def envelope_message(self) -> str:
        if self.action == "deliveries":
            return "Deliveries List"
        return super().envelope_message()


class DeliveryViewSet(PublicIdLookupMixin, AccountScopedViewSet):
    """Every delivery of the account (`filter[state]`, `filter[event]`, `filter[webhook]`), and redeliver."""

    queryset = WebhookDelivery.objects.select_related("webhook")
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet
    resource_name = "Delivery"
    resource_plural = "Deliveries"
    http_method_names = ["get", "post"]
    ordering_fields = ["created_at", "last_attempt_at", "next_attempt_at"]
    capabilities = {"redeliver": MANAGE}

    @extend_schema(exclude=True)
    def create(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed("POST")

    @extend_schema(request=None, summary="Send this delivery again (same event id)")
    @action(detail=True, methods=["post"])
    def redeliver(self, request, id=None):
        with service_errors():
            item = services.redeliver(self.get_object(), acting_user=request.user)
        return envelope(self.get_serializer(item).data, "Delivery Queued Again")


class SubscriptionSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    webhook_id = serializers.CharField()
    identity = serializers.CharField(required=False, allow_blank=True, max_length=64)

    class Meta:
        model = Subscription
        fields = ["id", "event", "identity", "webhook_id", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["webhook_id"] = str(instance.webhook.uid)
        return data

    def validate_event(self, value):
        with service_errors():
            return validation.clean_event(value)

    def validate_identity(self, value):
        with service_errors():
            return validation.clean_identity(value)

    def validate_webhook_id(self, value):
        account = self.context["account"]
        try:
            return Webhook.objects.get(account=account, uid=uuid.UUID(str(value)))
        except (ValueError, Webhook.DoesNotExist):
            raise serializers.ValidationError("No webhook with this id in your account.") from None

    def validate(self, attrs):
        webhook = attrs.get("webhook_id") or (self.instance.webhook if self.instance else None)
        event = attrs.get("event") or (self.instance.event if self.instance else None)
        if webhook is not None and event and webhook.is_custom and not registry.get(event).customizable:
            raise serializers.ValidationError({"event": [f"A customized webhook cannot carry {event}."]})
        if "webhook_id" in attrs:
            attrs["webhook"] = attrs.pop("webhook_id")
        if self.instance is None:
            attrs.setdefault("identity", Subscription.ALL)
        return attrs


class SubscriptionViewSet(PublicIdLookupMixin, AccountScopedViewSet):
    queryset = Subscription.objects.select_related("webhook")
    serializer_class = SubscriptionSerializer
    filterset_class = SubscriptionFilterSet
    resource_name = "Subscription"
    ordering_fields = ["created_at", "event", "identity"]
    capabilities = {"create": MANAGE, "update": MANAGE, "partial_update": MANAGE, "destroy": MANAGE}

    def perform_create(self, serializer):
        serializer.instance = services.create_subscription(
            self.request.account, acting_user=self.request.user, **serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.update_subscription(
            serializer.instance, acting_user=self.request.user, **serializer.validated_data
        )

    def destroy(self, request, *args, **kwargs):
        services.delete_subscription(self.get_object(), acting_user=request.user)
        return envelope([], "Subscription Deleted Successfully")


def register(router) -> None:
    """Deliveries first: `webhooks/deliveries/...` must not be read as a webhook id."""
    router.register("webhooks/deliveries", DeliveryViewSet, basename="webhook-delivery")
    router.register("webhooks", WebhookViewSet, basename="webhook")
    router.register("subscriptions", SubscriptionViewSet, basename="subscription")
