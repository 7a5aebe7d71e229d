"""API: `/sms/senders` (list, filter, create, view, edit, delete) with `approve` and `reject` for compliance."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from campaigns import services
from campaigns.api.common import reason_from
from campaigns.filtersets import SenderFilterSet
from campaigns.models import Sender, Service
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.roles import REVIEW


class SenderSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    name = serializers.CharField(max_length=15)
    country_code = serializers.CharField(max_length=2)
    service = serializers.ChoiceField(choices=Service.choices)
    entity_id = serializers.CharField(max_length=30, required=False, allow_blank=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    reviewed_by = serializers.CharField(source="reviewed_by.email", read_only=True, default=None)
    created_by = serializers.CharField(source="created_by.email", read_only=True, default=None)

    class Meta:
        model = Sender
        fields = [
            "id",
            "name",
            "country_code",
            "service",
            "entity_id",
            "status",
            "status_label",
            "reason",
            "created_by",
            "reviewed_by",
            "reviewed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "reason", "reviewed_at", "created_at", "updated_at"]


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True)


class SenderViewSet(AccountScopedViewSet):
    """Sender IDs. The name cannot change after creation; editing country or service of an approved sender sends
    it back to pending. Only compliance (and admins) approve or reject."""

    queryset = Sender.objects.select_related("created_by", "reviewed_by")
    serializer_class = SenderSerializer
    filterset_class = SenderFilterSet
    ordering_fields = ["created_at", "name", "status", "country_code"]
    resource_name = "Sender"
    capabilities = {"approve": REVIEW, "reject": REVIEW}

    def _with_warnings(self, sender: Sender) -> dict:
        findings = services.sender_findings(
            sender.account,
            name=sender.name,
            country_code=sender.country_code,
            service=sender.service,
            entity_id=sender.entity_id,
        )
        return dict(self.get_serializer(sender).data, warnings=[f.as_dict() for f in findings])

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sender = services.create_sender(request.account, acting_user=request.user, **serializer.validated_data)
        return envelope(self._with_warnings(sender), "Sender Saved Successfully", status=201)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        sender = self.get_object()
        serializer = self.get_serializer(sender, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        sender = services.update_sender(sender, acting_user=request.user, **serializer.validated_data)
        return envelope(self._with_warnings(sender), "Sender Updated Successfully")

    def perform_destroy(self, instance):
        services.delete_sender(instance, acting_user=self.request.user)

    @extend_schema(request=ReasonSerializer, responses=SenderSerializer, summary="Approve a pending sender")
    @action(detail=True, methods=["post"])
    def approve(self, request, id=None):
        sender = services.approve_sender(self.get_object(), acting_user=request.user, reason=reason_from(request))
        return envelope(self.get_serializer(sender).data, "Sender Approved Successfully")

    @extend_schema(request=ReasonSerializer, responses=SenderSerializer, summary="Reject a pending sender (reason)")
    @action(detail=True, methods=["post"])
    def reject(self, request, id=None):
        sender = services.reject_sender(self.get_object(), acting_user=request.user, reason=reason_from(request))
        return envelope(self.get_serializer(sender).data, "Sender Rejected Successfully")
