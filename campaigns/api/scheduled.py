"""Scheduled API sends: GET /sms/scheduled[/{group_id}] (newest first, `filter[sender]`, `filter[state]`) and
POST /sms/scheduled/{group_id}/cancel (until `SMS_CANCEL_CUTOFF_MINUTES` before the send's time; 409 after it)."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.decorators import action

from campaigns.filtersets_sending import ScheduledSendFilterSet
from campaigns.models import ScheduledSend, ScheduledSendState
from campaigns.sending.lifecycle import cancel_deadline
from campaigns.sending.scheduled import cancel_scheduled_send, is_cancellable, masked_recipients
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet


class ScheduledSendSerializer(serializers.ModelSerializer):
    group_id = serializers.UUIDField(source="uid", read_only=True, help_text="The group id of the send's messages.")
    sender = serializers.CharField(source="sender_name", read_only=True)
    recipients = serializers.SerializerMethodField(help_text="The first recipients (masked for mobile_secure).")
    state = serializers.SerializerMethodField()
    cancellable = serializers.SerializerMethodField()
    cancel_until = serializers.SerializerMethodField(help_text="The last moment the send can be cancelled.")

    class Meta:
        model = ScheduledSend
        fields = [
            "group_id",
            "sender",
            "messages",
            "recipients",
            "send_at",
            "cost",
            "state",
            "cancellable",
            "cancel_until",
            "cancelled_at",
            "cancelled",
            "refunded",
            "created_at",
        ]
        read_only_fields = fields

    def get_recipients(self, scheduled) -> list[str]:
        return masked_recipients(scheduled, self.context["account"])

    @extend_schema_field(serializers.ChoiceField(choices=ScheduledSendState.choices))
    def get_state(self, scheduled) -> str:
        return scheduled.state_at(timezone.now())

    def get_cancellable(self, scheduled) -> bool:
        return is_cancellable(scheduled, timezone.now())

    @extend_schema_field(OpenApiTypes.DATETIME)
    def get_cancel_until(self, scheduled) -> str:
        return serializers.DateTimeField().to_representation(cancel_deadline(scheduled.send_at))


class ScheduledSendViewSet(AccountScopedViewSet):
    """API sends given a future `time` (or `schedule_time`): what each schedules, and cancelling it."""

    queryset = ScheduledSend.objects.all()
    serializer_class = ScheduledSendSerializer
    filterset_class = ScheduledSendFilterSet
    resource_name = "Scheduled Send"
    http_method_names = ["get", "post"]
    lookup_url_kwarg = "group_id"
    ordering_fields = ["created_at", "send_at"]

    @extend_schema(exclude=True)
    def create(self, request, *args, **kwargs):
        raise exceptions.MethodNotAllowed("POST")

    @extend_schema(request=None, responses=ScheduledSendSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, group_id=None):
        scheduled = cancel_scheduled_send(self.get_object(), actor=request.user)
        return envelope(self.get_serializer(scheduled).data, "Scheduled Send Cancelled")
