"""Send API: single/bulk sends, template sends, delivery reports, message history, pricing, balance, credits.

Paths (shared/api.md): POST /sms/send, POST /sms/send/template, GET /sms/dlr, GET /sms/messages[/{id}],
GET /sms/pricing, POST /sms/pricing/quote, GET /account/balance, POST /account/credits, and the connectors'
delivery report callback /sms/dlr/callback/{connector}/{message} (no auth, always 200).
"""

import json
import uuid
import zoneinfo
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.db.models import Q
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from campaigns import dlr_codes
from campaigns.dispatch import apply_delivery_report
from campaigns.filtersets_sending import MessageFilterSet, PriceFilterSet
from campaigns.models import Connector, Message, Price, Sender, Template
from campaigns.sending import InsufficientFunds, SendingError, SendRequest, add_credits, send_messages, template_problem
from campaigns.states import MessageType
from portal.api.exceptions import Conflict
from portal.api.filters import BracketFilterBackend
from portal.api.pagination import EnvelopePagination
from portal.api.responses import envelope
from portal.api.viewsets import AccountAPIView, AccountScopedViewSet
from portal.models import Account


class InsufficientFundsError(exceptions.APIException):
    """Seed error 6 (HTTP 403)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Insufficient funds: your account balance is too low to process the request. (error 6)"
    default_code = "insufficient_funds"


def raise_api_error(error: SendingError):
    if isinstance(error, InsufficientFunds):
        raise InsufficientFundsError()
    if error.code == "forbidden":
        raise exceptions.PermissionDenied(str(error))
    if error.field:
        raise exceptions.ValidationError({error.field: [str(error)]})
    raise Conflict(str(error))


def parse_send_time(value, account: Account) -> datetime | None:
    """ISO 8601 with offset, or the seed's `YYYY-MM-DD HH:MM:SS` in the account's time zone."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise exceptions.ValidationError({"time": ["Use YYYY-MM-DD HH:MM:SS or ISO 8601."]}) from None
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(account.time_zone))
    return moment


@extend_schema_field({"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}]})
class RecipientsField(serializers.Field):
    """`to` as an array or a comma-separated list."""

    def to_internal_value(self, data):
        items = data if isinstance(data, list) else str(data).split(",")
        numbers = [str(item).strip() for item in items if str(item).strip()]
        if not numbers:
            raise serializers.ValidationError("Give at least one number.")
        if len(numbers) > 10_000:
            raise serializers.ValidationError("At most 10,000 numbers per request; use a campaign for more.")
        return numbers

    def to_representation(self, value):
        return value


class SendOptionsSerializer(serializers.Serializer):
    time = serializers.CharField(required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=MessageType.choices, required=False, default=MessageType.AUTO)
    flash = serializers.IntegerField(min_value=0, max_value=1, required=False, default=0)
    custom = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    port = serializers.CharField(required=False, allow_blank=True)
    max_units = serializers.IntegerField(min_value=2, max_value=3, required=False, allow_null=True)
    webhook_id = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    meta = serializers.JSONField(required=False, default=dict)


class SendSerializer(SendOptionsSerializer):
    sender = serializers.CharField(max_length=15)
    to = RecipientsField()
    message = serializers.CharField()
    service = serializers.CharField(required=False, allow_blank=True, max_length=3)


class SendTemplateSerializer(SendOptionsSerializer):
    alias = serializers.CharField(required=False, allow_blank=True)
    id = serializers.CharField(required=False, allow_blank=True)
    data = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    recipient = serializers.JSONField(required=False)
    to = RecipientsField(required=False)
    sender = serializers.CharField(required=False, allow_blank=True, max_length=15)

    def validate(self, attrs):
        if not attrs.get("alias") and not attrs.get("id"):
            raise serializers.ValidationError({"alias": ["Give the template alias or id."]})
        recipient = attrs.get("recipient")
        numbers = attrs.get("to") or []
        if isinstance(recipient, dict):
            value = recipient.get("mobile") or recipient.get("to") or recipient.get("phone") or []
            numbers = numbers or RecipientsField().to_internal_value(value)
        elif recipient:
            numbers = numbers or RecipientsField().to_internal_value(recipient)
        if not numbers:
            raise serializers.ValidationError({"recipient": ["Give recipient.mobile (or to)."]})
        attrs["numbers"] = numbers
        return attrs


def approved_sender(account: Account, name: str) -> Sender:
    sender = Sender.objects.for_account(account).filter(name__iexact=name.strip()).order_by("-status").first()
    if sender is None:
        raise exceptions.ValidationError({"sender": [f"Unknown sender {name}."]})
    if not sender.is_approved:
        raise exceptions.ValidationError({"sender": ["Sender not allowed: it is not approved."]})
    return sender


def send_response(outcome) -> Response:
    """201 when at least one number was accepted; accepted and rejected numbers, group id and cost in `data`."""
    accepted = len(outcome.accepted)
    data = {
        "accepted": outcome.accepted,
        "rejected": outcome.rejected,
        "group_id": str(outcome.group_id),
        "cost": str(outcome.cost),
    }
    message = f"{accepted} number{'' if accepted == 1 else 's'} accepted"
    return envelope(data, message, status=201 if accepted else 200)


def _options(data: dict, account: Account) -> dict:
    max_units = data.get("max_units")
    return {
        "message_type": data.get("type") or MessageType.AUTO,
        "flash": str(data.get("flash")) == "1",
        "custom": data.get("custom", ""),
        "max_units": int(max_units) if max_units else None,
        "webhook_id": data.get("webhook_id", ""),
        "meta": data.get("meta") or {},
        "send_at": parse_send_time(data.get("time"), account),
    }


class SendView(AccountAPIView):
    resource_name = "Message"

    @extend_schema(request=SendSerializer, responses=OpenApiTypes.OBJECT, summary="Send a text to numbers")
    def post(self, request):
        serializer = SendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        send = SendRequest(
            sender=approved_sender(request.account, data["sender"]),
            recipients=data["to"],
            text=data["message"],
            service=data.get("service") or None,
            **_options(data, request.account),
        )
        try:
            outcome = send_messages(request.account, send, actor=request.user)
        except SendingError as error:
            raise_api_error(error)
        return send_response(outcome)


class SendTemplateView(AccountAPIView):
    resource_name = "Message"

    @extend_schema(request=SendTemplateSerializer, responses=OpenApiTypes.OBJECT, summary="Send an approved template")
    def post(self, request):
        serializer = SendTemplateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = template_by_reference(request.account, data.get("id") or data.get("alias"))
        sender = approved_sender(request.account, data["sender"]) if data.get("sender") else template.sender
        if sender is None:
            raise exceptions.ValidationError({"sender": ["The template has no sender; give one."]})
        send = SendRequest(
            sender=sender,
            recipients=data["numbers"],
            text=template.body,
            template=template,
            variables=data.get("data") or {},
            **_options(data, request.account),
        )
        try:
            outcome = send_messages(request.account, send, actor=request.user)
        except SendingError as error:
            raise_api_error(error)
        return send_response(outcome)


def template_by_reference(account: Account, reference: str) -> Template:
    """A template by alias, DLT template id or public id."""
    condition = Q(alias=reference) | Q(dlt_template_id=reference)
    if is_uuid(reference):
        condition |= Q(uid=reference)
    template = Template.objects.for_account(account).select_related("sender").filter(condition).first()
    if template is None:
        raise exceptions.ValidationError({"alias": [f"No template {reference}."]})
    problem = template_problem(template)
    if problem:
        raise exceptions.ValidationError({"alias": [problem]})
    return template


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


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
        from contacts.suppression import normalize_receiver_or_none

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


class PriceSerializer(serializers.ModelSerializer):
    iso = serializers.CharField(source="country")

    class Meta:
        model = Price
        fields = ["iso", "service", "price", "currency", "status", "updated_at"]


class PricingView(AccountAPIView):
    """The prices that apply to the account (its own rows override the platform list)."""

    resource_name = "Pricing"

    @extend_schema(responses=PriceSerializer(many=True), summary="Pricing list")
    def get(self, request):
        prices = effective_prices(request.account)
        backend = BracketFilterBackend()
        self.filterset_class = PriceFilterSet
        prices = backend.filter_queryset(request, prices, self)
        paginator = EnvelopePagination()
        page = paginator.paginate_queryset(prices, request, view=self)
        response = paginator.get_paginated_response(PriceSerializer(page, many=True).data)
        response.data["message"] = "Pricing List"
        return response


def effective_prices(account: Account):
    overridden = Price.objects.filter(account=account).values("country", "service")
    own = Q(account=account)
    platform = Q(account__isnull=True) & ~Q(
        pk__in=Price.objects.filter(account__isnull=True, country__in=overridden.values("country"))
        .filter(service__in=overridden.values("service"))
        .values("pk")
    )
    return Price.objects.filter(own | platform).order_by("country", "service")


class QuoteSerializer(serializers.Serializer):
    sender = serializers.CharField(max_length=15)
    to = RecipientsField()
    message = serializers.CharField(required=False, allow_blank=True)
    alias = serializers.CharField(required=False, allow_blank=True)
    data = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    service = serializers.CharField(required=False, allow_blank=True, max_length=3)
    type = serializers.ChoiceField(choices=MessageType.choices, required=False, default=MessageType.AUTO)
    max_units = serializers.IntegerField(min_value=2, max_value=3, required=False, allow_null=True)

    def validate(self, attrs):
        if not attrs.get("message") and not attrs.get("alias"):
            raise serializers.ValidationError({"message": ["Give a message or a template alias."]})
        return attrs


class QuoteView(AccountAPIView):
    """What a send would cost before sending: recipients, rejections, parts, cost."""

    resource_name = "Quote"
    capabilities = {"POST": "read"}

    @extend_schema(request=QuoteSerializer, responses=OpenApiTypes.OBJECT, summary="Price a send before sending")
    def post(self, request):
        serializer = QuoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        template = template_by_reference(request.account, data["alias"]) if data.get("alias") else None
        send = SendRequest(
            sender=approved_sender(request.account, data["sender"]),
            recipients=data["to"],
            text=data.get("message") or "",
            template=template,
            variables=data.get("data") or {},
            service=data.get("service") or None,
            message_type=data.get("type") or MessageType.AUTO,
            max_units=int(data["max_units"]) if data.get("max_units") else None,
        )
        try:
            outcome = send_messages(request.account, send, dry_run=True)
        except SendingError as error:
            raise_api_error(error)
        balance = Account.objects.filter(pk=request.account.pk).values_list("balance", flat=True).get()
        quote = {
            "recipients": len(outcome.accepted),
            "rejected": outcome.rejected,
            "parts": sum(item["parts"] for item in outcome.accepted),
            "cost": str(outcome.cost),
            "currency": request.account.currency,
            "balance": str(balance),
            "sufficient": outcome.cost <= balance,
            "messages": outcome.accepted,
        }
        return envelope(quote, "Quote")


class BalanceView(AccountAPIView):
    resource_name = "Balance"

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Account balance")
    def get(self, request):
        account = Account.objects.get(pk=request.account.pk)
        return envelope({"balance": str(account.balance), "currency": account.currency}, "OK")


class CreditsSerializer(serializers.Serializer):
    credits = serializers.CharField()
    account = serializers.CharField(
        required=False, allow_blank=True, help_text="Account slug or id; default: the token's."
    )
    username = serializers.CharField(required=False, allow_blank=True, help_text="Seed name of `account`.")
    service = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_credits(self, value):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise serializers.ValidationError("Not a number.") from None
        if amount <= 0:
            raise serializers.ValidationError("Must be positive.")
        return amount


class CreditsView(AccountAPIView):
    """Platform staff add credits to an account (audited)."""

    resource_name = "Credits"
    capabilities = {"POST": "read"}

    @extend_schema(request=CreditsSerializer, responses=OpenApiTypes.OBJECT, summary="Add credits (platform staff)")
    def post(self, request):
        if not request.user.is_staff:
            raise exceptions.PermissionDenied("Only platform staff can add credits.")
        serializer = CreditsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reference = data.get("account") or data.get("username")
        target = request.account
        if reference:
            lookup = Q(slug=reference) | (Q(uid=reference) if is_uuid(reference) else Q())
            target = Account.objects.filter(lookup).first()
            if target is None:
                raise exceptions.NotFound("No such account.")
        note = data.get("note") or (f"Credits for {data['service']}" if data.get("service") else "")
        try:
            entry = add_credits(target, data["credits"], actor=request.user, note=note)
        except SendingError as error:
            raise_api_error(error)
        return envelope(
            {"account": target.slug, "credits": str(data["credits"]), "balance": str(entry.balance_after)},
            "Balance added Successfully",
        )


STATUS_TO_CODE = {}
for _entry in dlr_codes.DLR_CODES.values():
    STATUS_TO_CODE.setdefault(_entry.status, _entry.code)
STATUS_TO_CODE.update({"DELIVERED": dlr_codes.DELIVERED, "UNDELIVERED": "099", "EXPIRED": dlr_codes.EXPIRED})


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
    code = str(params.get("code") or params.get("err") or "").strip()
    if not code:
        code = STATUS_TO_CODE.get(str(params.get("status") or params.get("stat") or "").strip().upper(), "")
    known = Connector.objects.filter(uid=connector_id).exists() and bool(code)
    if known:
        apply_delivery_report(
            message_id, code.zfill(3), source="callback", raw=params | {"connector": str(connector_id)}
        )
    return JsonResponse({"status": "OK", "code": 200, "message": "Received"})
