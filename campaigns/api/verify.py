"""Verify API (BICS "Send/Verify/Search/Cancel OTP", Boomware's shapes accepted too):

POST /verify (send a code), GET /verify (list, `filter[status|to|reference]`), GET /verify/{id} (search: status,
channels tried), GET /verify/{id}/{code} and POST /verify/check (check), GET|POST /verify/{id}/cancel.
The rules live in `campaigns.verify`; this module only translates requests and answers.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action

from campaigns.filtersets_sending import VerificationFilterSet
from campaigns.lookups import is_uuid
from campaigns.models import Verification, VerifyChannel
from campaigns.verify import progress
from campaigns.verify.service import VerifyRequest, start
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.masking import mask_msisdn
from portal.roles import WRITE


class ChannelSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=VerifyChannel.choices, default=VerifyChannel.SMS)
    sender = serializers.CharField(required=False, allow_blank=True, max_length=15)
    template = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="Alias or id.")


class PayloadSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=32)
    code_length = serializers.IntegerField(min_value=4, max_value=10, required=False)
    expiry = serializers.IntegerField(min_value=30, max_value=86_400, required=False, help_text="Seconds.")
    fallback_seconds = serializers.IntegerField(min_value=10, max_value=3600, required=False)
    reference = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    foreign_id = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    ip = serializers.IPAddressField(required=False, allow_null=True, default=None)
    language = serializers.CharField(required=False, allow_blank=True, max_length=10, default="")


class VerifySendSerializer(serializers.Serializer):
    """BICS: `channels` + `payload`. Boomware: `number`, `method` (sms), `from`, `codeLength`, `language`, `ip`."""

    channels = ChannelSerializer(many=True, required=False, max_length=4)
    payload = PayloadSerializer(required=False)
    number = serializers.CharField(required=False, max_length=32, help_text="Boomware: the number.")
    method = serializers.ChoiceField(choices=VerifyChannel.choices, required=False, help_text="Boomware: channel.")
    codeLength = serializers.IntegerField(min_value=4, max_value=10, required=False)
    language = serializers.CharField(required=False, allow_blank=True, max_length=10)
    ip = serializers.IPAddressField(required=False, allow_null=True)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.CharField(required=False, max_length=15, help_text="Boomware: the sender.")
        return fields

    def validate(self, attrs):
        if attrs.get("payload") is None and not attrs.get("number"):
            raise serializers.ValidationError({"payload": ["Give payload.to (or number)."]})
        return attrs

    def to_request(self) -> tuple[VerifyRequest, list[dict] | None]:
        data = self.validated_data
        payload = data.get("payload")
        if payload is not None:
            request = VerifyRequest(
                to=payload["to"],
                code_length=payload.get("code_length"),
                expiry_seconds=payload.get("expiry"),
                fallback_seconds=payload.get("fallback_seconds"),
                reference=payload.get("reference", ""),
                foreign_id=payload.get("foreign_id", ""),
                ip=payload.get("ip"),
                language=payload.get("language", ""),
            )
            channels = [dict(channel) for channel in data["channels"]] if data.get("channels") else None
            return request, channels
        request = VerifyRequest(
            to=data["number"], code_length=data.get("codeLength"), ip=data.get("ip"), language=data.get("language", "")
        )
        channel = {"channel": data.get("method") or VerifyChannel.SMS}
        if data.get("from"):
            channel["sender"] = data["from"]
        return request, [channel] if data.get("method") or data.get("from") else None


class AttemptSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    channel = serializers.CharField()
    sender = serializers.CharField(source="sender_name")
    message_id = serializers.UUIDField(source="message.uid", allow_null=True, default=None)
    state = serializers.CharField(help_text="The message's state, or `refused` (then `detail` says why).")
    detail = serializers.CharField()
    created_at = serializers.DateTimeField()


class VerificationSerializer(serializers.ModelSerializer):
    """A request as the API shows it: never its code."""

    id = serializers.UUIDField(source="uid", read_only=True)
    to = serializers.SerializerMethodField()
    channels = AttemptSerializer(source="attempts", many=True, read_only=True)

    class Meta:
        model = Verification
        fields = [
            "id",
            "status",
            "to",
            "country",
            "reference",
            "foreign_id",
            "failure_reason",
            "failed_checks",
            "channels",
            "created_at",
            "expire_at",
            "verified_at",
            "finished_at",
        ]

    def get_to(self, verification) -> str:
        return mask_msisdn(verification.to, self.context.get("account"))


class SentSerializer(serializers.Serializer):
    """The answer to a send (BICS "Send OTP")."""

    id = serializers.UUIDField(source="uid")
    requestId = serializers.UUIDField(source="uid", help_text="Boomware's name of `id`.")
    status = serializers.CharField()
    to = serializers.CharField()
    reference = serializers.CharField()
    foreign_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    expire_at = serializers.DateTimeField()


class CheckSerializer(serializers.Serializer):
    """POST /verify/check: Boomware's `requestId` (or `id`) and `code`."""

    requestId = serializers.CharField(required=False, max_length=64)
    id = serializers.CharField(required=False, max_length=64)
    code = serializers.CharField(max_length=10)

    def validate(self, attrs):
        reference = attrs.get("requestId") or attrs.get("id")
        if not reference:
            raise serializers.ValidationError({"id": ["Give id (or requestId)."]})
        attrs["reference"] = reference
        return attrs


class CheckResultSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(
        choices=[progress.SUCCESS, progress.FAILED, progress.EXPIRED, progress.INVALID, progress.ALREADY_VERIFIED]
    )
    detail = serializers.CharField()


CHECK_MESSAGES = {
    progress.SUCCESS: "OTP verified",
    progress.INVALID: "Invalid OTP",
    progress.EXPIRED: "OTP expired",
    progress.FAILED: "OTP failed",
    progress.ALREADY_VERIFIED: "OTP already verified",
}


def check_answer(request, reference: str, code: str):
    """The one answer of both check routes; an id of no request of this account is a 404."""
    if request.token is not None and request.token.read_only:
        raise exceptions.PermissionDenied("This token is read-only.")
    token_id = request.token.pk if request.token is not None else None
    outcome = progress.check(request.account, reference, code, token_id=token_id) if is_uuid(reference) else None
    if outcome is None:
        raise exceptions.NotFound("failed: no such verification request in this account")
    data = {"id": str(outcome.verification.uid), "status": outcome.status, "detail": outcome.detail}
    return envelope(data, CHECK_MESSAGES[outcome.status])


class VerifyViewSet(AccountScopedViewSet):
    """One-time codes: send, list, search, check, cancel."""

    queryset = Verification.objects.prefetch_related("attempts__message")
    serializer_class = VerificationSerializer
    filterset_class = VerificationFilterSet
    resource_name = "Verification"
    http_method_names = ["get", "post"]
    capabilities = {"verify_code": WRITE, "check": WRITE, "cancel": WRITE}
    not_found_actions = ("check",)  # the request's id is in the body

    @extend_schema(request=VerifySendSerializer, responses={201: SentSerializer, 200: SentSerializer})
    def create(self, request, *args, **kwargs):
        serializer = VerifySendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        verify_request, channels = serializer.to_request()
        verify_request.channels = channels
        verification, created = start(request.account, verify_request, actor=request.user, api_token=request.token)
        data = SentSerializer(verification).data
        if created:
            return envelope(data, "OTP sent", status=201)
        return envelope(data, "A code sent to this number is still valid: the live request is answered")

    @extend_schema(request=None, responses=VerificationSerializer, summary="Cancel a live request")
    @action(detail=True, methods=["get", "post"])
    def cancel(self, request, id=None):
        if request.token is not None and request.token.read_only:
            raise exceptions.PermissionDenied("This token is read-only.")
        verification = progress.cancel(request.account, id, actor=request.user) if is_uuid(id) else None
        if verification is None:
            raise exceptions.NotFound()
        return envelope(self.get_serializer(self.get_queryset().get(pk=verification.pk)).data, "OTP cancelled")

    @extend_schema(request=CheckSerializer, responses=CheckResultSerializer, summary="Check a code (Boomware)")
    @action(detail=False, methods=["post"])
    def check(self, request):
        serializer = CheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return check_answer(request, serializer.validated_data["reference"], serializer.validated_data["code"])

    @extend_schema(
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH)],
        responses=CheckResultSerializer,
        summary="Check a code (BICS Verify OTP)",
        operation_id="verify_check_code",
    )
    @action(detail=True, methods=["get"], url_path=r"(?P<code>[0-9]{1,10})")
    def verify_code(self, request, id=None, code=None):
        return check_answer(request, id, code)
