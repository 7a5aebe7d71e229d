"""Message API: history (GET /sms/messages[/{id}]), delivery status (GET /sms/dlr), and the connectors' delivery
report callback /sms/dlr/callback/{connector}/{message} (no auth, always 200), which hands the report to the one
ingestion entry point of the sending core.
"""

import json
import zoneinfo
from datetime import datetime, time, timedelta

from django.db.models import Q
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers

from campaigns import dlr_codes
from campaigns.filtersets_sending import MessageFilterSet
from campaigns.lookups import is_uuid
from campaigns.models import Connector, Message
from campaigns.sending.reports import apply_delivery_report, code_of
from contacts.suppression import normalize_receiver_or_none
from portal.api.pagination import EnvelopePagination
from portal.api.viewsets import AccountAPIView, AccountScopedViewSet
from portal.models import Account


class MessageSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    mobile = serializers.CharField(source="recipient")
    sender = serializers.CharField(source="sender_name")
    status = serializers.CharField(source="state")
    description = serializers.SerializerMethodField()
    campaign_id = serializers.UUIDField(source="campaign.uid", read_only=True, allow_null=True, default=None)
    custom = serializers.CharField(source="custom_id")
    type = serializers.CharField(source="message_type")
    body = serializers.SerializerMethodField()
    flash = serializers.BooleanField(read_only=True, help_text="A class-0 message (shown at once, not stored).")
    port = serializers.IntegerField(
        source="destination_port", read_only=True, allow_null=True, help_text="Destination application port."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "group_id",
            "campaign_id",
            "mobile",
            "country",
            "sender",
            "service",
            "body",
            "type",
            "encoding",
            "units",
            "parts",
            "flash",
            "port",
            "price",
            "cost",
            "status",
            "error_code",
            "description",
            "custom",
            "webhook_id",
            "connector_message_id",
            "attempts",
            "created_at",
            "not_before",
            "sent_at",
            "done_at",
        ]

    def get_description(self, message) -> str:
        return dlr_codes.describe(message.error_code) or message.error_detail

    def get_body(self, message) -> str:
        account = self.context.get("account")
        return "" if account is not None and account.hide_msg else message.body


class MessageViewSet(AccountScopedViewSet):
    """Message history with status, parts and cost."""

    queryset = Message.objects.select_related("campaign")
    serializer_class = MessageSerializer
    filterset_class = MessageFilterSet
    resource_name = "Message"
    http_method_names = ["get"]
    ordering_fields = ["created_at", "sent_at", "cost"]


class DlrPagination(EnvelopePagination):
    page_size = 100
    max_page_size = 100


def dlr_messages(account: Account, params):
    """Messages selected by any of id, mobile, cid, date (in the account's time zone) or group_id."""
    messages = Message.objects.for_account(account).select_related("campaign").order_by("-created_at", "-id")
    conditions = Q()
    for name in ("id", "group_id"):
        if params.get(name) and not is_uuid(params[name]):
            raise exceptions.ValidationError({name: ["Not a valid id."]})
    if params.get("id"):
        conditions &= Q(uid=params["id"])
    if params.get("group_id"):
        group = params["group_id"]
        conditions &= Q(group_id=group, campaign__isnull=True) | Q(campaign__uid=group)
    if params.get("mobile"):
        conditions &= Q(recipient=normalize_receiver_or_none(account, params["mobile"]) or params["mobile"])
    if params.get("cid"):
        conditions &= Q(custom_id=params["cid"])
    if params.get("date"):
        try:
            day = datetime.fromisoformat(params["date"]).date()
        except ValueError:
            raise exceptions.ValidationError({"date": ["Use YYYY-MM-DD."]}) from None
        start = datetime.combine(day, time.min, tzinfo=zoneinfo.ZoneInfo(account.time_zone))
        conditions &= Q(created_at__gte=start, created_at__lt=start + timedelta(days=1))
    if not conditions:
        raise exceptions.ValidationError({"id": ["Give one of id, mobile, cid, date or group_id."]})
    return messages.filter(conditions)


class DlrView(AccountAPIView):
    """Delivery status by id, mobile, cid (custom id), date or group_id; 100 per page."""

    resource_name = "DLR"

    @extend_schema(responses=MessageSerializer(many=True), summary="Pull delivery status")
    def get(self, request):
        messages = dlr_messages(request.account, request.query_params)
        paginator = DlrPagination()
        page = paginator.paginate_queryset(messages, request, view=self)
        context = {"account": request.account, "request": request}
        return paginator.get_paginated_response(MessageSerializer(page, many=True, context=context).data)


@csrf_exempt
def dlr_callback(request, connector_id, message_id):
    """A connector's delivery report: `code` (000…792) or `status` (DELIVRD, UNDELIV…). Always 200, idempotent."""
    params = request.GET.dict() | request.POST.dict()
    if request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
            params |= body if isinstance(body, dict) else {}
        except ValueError:
            pass
    code = code_of(params.get("code") or params.get("err"), params.get("status") or params.get("stat"))
    if code and Connector.objects.filter(uid=connector_id).exists():
        apply_delivery_report(message_id, code, source="callback", raw=params | {"connector": str(connector_id)})
    return JsonResponse({"status": "OK", "code": 200, "message": "Received"})
