"""Send API: single/bulk sends, template sends and quotes (POST /sms/send, POST /sms/send/template,
POST /sms/pricing/quote). Refusals of the sending core reach the client through the API's exception handler.
"""

import zoneinfo
from datetime import datetime

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from campaigns.encoding import PORT_ERROR, parse_port
from campaigns.links import LinkOptions
from campaigns.lookups import approved_sender, template_by_reference, template_for_text
from campaigns.sending import caps
from campaigns.sending.billing import current_balance
from campaigns.sending.direct import SendRequest, send_messages
from campaigns.states import MessageType
from portal.api.responses import envelope
from portal.api.viewsets import AccountAPIView
from portal.models import Account

TIME_FORMATS = {
    "time": "Use YYYY-MM-DD HH:MM:SS or ISO 8601.",
    "schedule_time": "Use Y-m-d H:i (e.g. 2021-12-20 07:00) in the account's time zone.",
}


def parse_send_time(value, account: Account, *, field: str = "time") -> datetime | None:
    """ISO 8601 with offset, or the seed's `YYYY-MM-DD HH:MM:SS` (TextBoost: `Y-m-d H:i`) in the account's time
    zone."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise exceptions.ValidationError({field: [TIME_FORMATS[field]]}) from None
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


@extend_schema_field(
    {
        "oneOf": [{"type": "integer", "minimum": 0, "maximum": 65535}, {"type": "string", "pattern": "^[0-9]{0,5}$"}],
        "nullable": True,
        "description": "Destination application port (UDH / SMPP destination_port TLV), 0 to 65535; empty: none. "
        "The port element takes room in every part: 152 GSM characters in one part, 146 per part when split.",
    }
)
class PortField(serializers.Field):
    """`port` by the one rule of `campaigns.encoding.parse_port`; empty or null: no port."""

    default_error_messages = {"invalid": PORT_ERROR}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", None)
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data):
        try:
            return parse_port(data)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value):
        return value


class LinkOptionsSerializer(serializers.Serializer):
    """Smart links of a send, the same in a send and its quote (the short URLs change the length and price)."""

    track_links = serializers.BooleanField(
        required=False, default=False, help_text="Shorten each http(s):// or www. URL of the text per recipient."
    )
    smart_link_url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="Where {{smart_link}} in the text leads (an http:// or https:// URL), shortened per recipient.",
    )


def link_options(data: dict) -> LinkOptions:
    return LinkOptions(bool(data.get("track_links")), data.get("smart_link_url") or "")


class SendOptionsSerializer(LinkOptionsSerializer):
    time = serializers.CharField(required=False, allow_blank=True)
    schedule_time = serializers.CharField(
        required=False, allow_blank=True, help_text="TextBoost's name of `time`: Y-m-d H:i in the account's time zone."
    )
    type = serializers.ChoiceField(choices=MessageType.choices, required=False, default=MessageType.AUTO)
    flash = serializers.IntegerField(min_value=0, max_value=1, required=False, default=0)
    custom = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    custom1 = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Your value, returned in the status events."
    )
    custom2 = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Your value, returned in the status events."
    )
    port = PortField()
    max_units = serializers.IntegerField(min_value=2, max_value=3, required=False, allow_null=True)
    webhook_id = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    meta = serializers.DictField(required=False, default=dict, help_text="Your key-value data, kept on each message.")

    def validate(self, attrs):
        if attrs.get("time") and attrs.get("schedule_time"):
            raise serializers.ValidationError({"schedule_time": ["Give time or schedule_time, not both."]})
        return attrs


class SendSerializer(SendOptionsSerializer):
    sender = serializers.CharField(max_length=15)
    to = RecipientsField()
    message = serializers.CharField()
    service = serializers.CharField(required=False, allow_blank=True, max_length=3)
    dlt_template_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        help_text="The approved template of the sender with this DLT template id; the message must match it.",
    )


class SendTemplateSerializer(SendOptionsSerializer):
    alias = serializers.CharField(required=False, allow_blank=True)
    id = serializers.CharField(required=False, allow_blank=True)
    data = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    recipient = serializers.JSONField(required=False)
    to = RecipientsField(required=False)
    sender = serializers.CharField(required=False, allow_blank=True, max_length=15)

    def validate(self, attrs):
        attrs = super().validate(attrs)
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
    time_field = "schedule_time" if data.get("schedule_time") else "time"
    return {
        "message_type": data.get("type") or MessageType.AUTO,
        "flash": data.get("flash") == 1,
        "destination_port": data.get("port"),
        "custom": data.get("custom", ""),
        "max_units": int(max_units) if max_units else None,
        "webhook_id": data.get("webhook_id", ""),
        "meta": _meta(data),
        "send_at": parse_send_time(data.get(time_field), account, field=time_field),
        "time_field": time_field,
        "links": link_options(data),
    }


def _meta(data: dict) -> dict:
    """The client's meta, with `custom1`/`custom2` stored in it (given as fields, they win over meta's own)."""
    meta = dict(data.get("meta") or {})
    meta.update({name: data[name] for name in ("custom1", "custom2") if data.get(name)})
    return meta


class SendView(AccountAPIView):
    resource_name = "Message"

    @extend_schema(request=SendSerializer, responses=OpenApiTypes.OBJECT, summary="Send a text to numbers")
    def post(self, request):
        serializer = SendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sender = approved_sender(request.account, data["sender"])
        template, values = None, None
        if data.get("dlt_template_id"):
            template, values = template_for_text(request.account, sender, data["dlt_template_id"], data["message"])
        send = SendRequest(
            sender=sender,
            recipients=data["to"],
            text=data["message"],
            template=template,
            variables=values,
            service=data.get("service") or None,
            api_token=request.token,
            **_options(data, request.account),
        )
        return send_response(send_messages(request.account, send, actor=request.user))


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
            api_token=request.token,
            **_options(data, request.account),
        )
        return send_response(send_messages(request.account, send, actor=request.user))


class QuoteSerializer(LinkOptionsSerializer):
    sender = serializers.CharField(max_length=15)
    to = RecipientsField()
    message = serializers.CharField(required=False, allow_blank=True)
    alias = serializers.CharField(required=False, allow_blank=True)
    data = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False, default=dict)
    service = serializers.CharField(required=False, allow_blank=True, max_length=3)
    type = serializers.ChoiceField(choices=MessageType.choices, required=False, default=MessageType.AUTO)
    port = PortField()
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
            destination_port=data.get("port"),
            max_units=int(data["max_units"]) if data.get("max_units") else None,
            links=link_options(data),
        )
        outcome = send_messages(request.account, send, dry_run=True)
        balance = current_balance(request.account.pk)
        limit = caps.precheck(request.account, request.token, len(outcome.accepted), outcome.cost)
        quote = {
            "recipients": len(outcome.accepted),
            "rejected": outcome.rejected,
            "parts": sum(item["parts"] for item in outcome.accepted),
            "cost": str(outcome.cost),
            "currency": request.account.currency,
            "balance": str(balance),
            "sufficient": outcome.cost <= balance,
            "within_caps": limit is None,
            "cap": None if limit is None else limit.refusal(len(outcome.accepted), outcome.cost),
            "messages": outcome.accepted,
        }
        return envelope(quote, "Quote")
