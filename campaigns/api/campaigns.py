"""Campaign API: /api/v2/campaigns CRUD (drafts only change), schedule, cancel, pause, resume, stats, quote."""

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from campaigns.api.sending import PortField, parse_send_time
from campaigns.filtersets_sending import CampaignFilterSet
from campaigns.links import LinkOptions, check_link_options
from campaigns.lookups import is_uuid
from campaigns.models import Campaign, Sender, Template
from campaigns.rendering import required_variables, variables_in
from campaigns.sending.errors import SendingError
from campaigns.sending.lifecycle import (
    cancel_campaign,
    check_start_time,
    pause_campaign,
    resume_campaign,
    schedule_campaign,
)
from campaigns.sending.planning import quote_campaign
from campaigns.sending.smart_delivery import check_options
from campaigns.sending.stats import campaign_stats
from campaigns.states import CampaignState, MessageType, SmartDeliveryState
from campaigns.variable_mapping import missing_values, with_default_sources
from contacts.references import check_audience_references
from portal.api.exceptions import Conflict
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.audit import record

AUDIENCE_KEYS = ("groups", "segments", "tags", "numbers")


CAMPAIGN_READ_ONLY_FIELDS = [
    "state",
    "state_reason",
    "recipients_count",
    "suppressed_count",
    "suppressed_by_reason",
    "rejected_count",
    "rejected_by_reason",
    "estimated_cost",
    "scheduled_at",
    "started_at",
    "finished_at",
    "created_at",
    "smart_state",
    "smart_checked_at",
    "smart_result",
]
SMART_FIELDS = [
    "smart_delivery",
    "smart_test_size",
    "smart_test_numbers",
    "smart_wait_minutes",
    "smart_max_reject_percent",
]


class AudienceSerializer(serializers.Serializer):
    groups = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    segments = serializers.ListField(child=serializers.UUIDField(), required=False, default=list)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    numbers = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return {key: [str(item) for item in values.get(key, [])] for key in AUDIENCE_KEYS}


class ScopedReferenceField(serializers.Field):
    """An object of the caller's account by public id (or name/alias)."""

    def __init__(self, model, alternate: str, **kwargs):
        self.model, self.alternate = model, alternate
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        account = self.context["account"]
        queryset = self.model.objects.for_account(account)
        found = queryset.filter(uid=str(data)).first() if is_uuid(data) else None
        found = found or queryset.filter(**{self.alternate: str(data)}).first()
        if found is None:
            raise serializers.ValidationError(f"No {self.model._meta.verbose_name} {data}.")
        return found

    def to_representation(self, value):
        return {"id": str(value.uid), self.alternate: getattr(value, self.alternate)}


class SmartResultSerializer(serializers.Serializer):
    """What Smart Delivery found: the test batch's counts once picked, the verdict once judged."""

    test_messages = serializers.IntegerField(required=False, help_text="Messages in the test batch.")
    held = serializers.IntegerField(required=False, help_text="Messages held until the test batch is judged.")
    rejected = serializers.IntegerField(required=False, help_text="Test messages with a DLT rejection code.")
    rejected_percent = serializers.FloatField(required=False)
    rejected_by_code = serializers.DictField(child=serializers.IntegerField(), required=False)
    delivered = serializers.IntegerField(required=False)
    awaiting_report = serializers.IntegerField(required=False, help_text="Sent, no final report yet (not rejected).")
    other_failures = serializers.IntegerField(required=False, help_text="Failed for another reason than DLT.")
    max_reject_percent = serializers.IntegerField(required=False)
    verdict = serializers.ChoiceField(choices=[SmartDeliveryState.PASSED, SmartDeliveryState.FAILED], required=False)
    released = serializers.IntegerField(required=False, help_text="Held messages released (passed).")
    cancelled = serializers.IntegerField(required=False, help_text="Held messages cancelled (failed).")


class CampaignSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    sender = ScopedReferenceField(Sender, "name")
    template = ScopedReferenceField(Template, "alias", required=False, allow_null=True)
    audience = AudienceSerializer()
    type = serializers.ChoiceField(source="message_type", choices=MessageType.choices, required=False)
    port = PortField(source="destination_port")
    smart_test_numbers = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        help_text="Smart Delivery: the test batch is these numbers (they get the campaign too) instead of "
        "`smart_test_size` random recipients.",
    )
    smart_state = serializers.ChoiceField(
        choices=SmartDeliveryState.choices,
        allow_blank=True,
        read_only=True,
        help_text="Smart Delivery's test batch: empty until picked, then pending, passed or failed.",
    )
    smart_result = SmartResultSerializer(read_only=True)

    class Meta:
        model = Campaign
        fields = [
            "id",
            "name",
            "sender",
            "template",
            "text",
            "type",
            "flash",
            "port",
            "max_units",
            "audience",
            "variable_mapping",
            "start_at",
            "batch_size",
            "batch_interval_minutes",
            "throttle_per_second",
            "webhook_id",
            "track_links",
            "smart_link_url",
            *SMART_FIELDS,
            *CAMPAIGN_READ_ONLY_FIELDS,
        ]
        read_only_fields = CAMPAIGN_READ_ONLY_FIELDS

    def validate_start_at(self, value):
        try:
            check_start_time(value, timezone.now())
        except SendingError as error:
            raise serializers.ValidationError(str(error)) from None
        return value

    def validate(self, attrs):
        if "audience" in attrs:
            check_audience_references(self.context["account"], attrs["audience"])
        template = attrs.get("template", getattr(self.instance, "template", None))
        text = attrs.get("text", getattr(self.instance, "text", ""))
        if template is None and not (text or "").strip():
            raise serializers.ValidationError({"text": ["Choose a template or write a text."]})
        if template is not None and text:
            raise serializers.ValidationError({"text": ["Give either a template or a text, not both."]})
        batch_size = attrs.get("batch_size", getattr(self.instance, "batch_size", None))
        interval = attrs.get("batch_interval_minutes", getattr(self.instance, "batch_interval_minutes", None))
        if bool(batch_size) != bool(interval):
            raise serializers.ValidationError({"batch_size": ["Give both the batch size and the interval."]})
        body = template.body if template is not None else text
        mapping = attrs.get("variable_mapping", getattr(self.instance, "variable_mapping", None))
        mapping = with_default_sources(self.context["request"].account, variables_in(body), mapping)
        missing = missing_values(required_variables(body), mapping)
        if missing:
            raise serializers.ValidationError({"variable_mapping": missing})
        attrs["variable_mapping"] = mapping
        self._check_smart_delivery(attrs)
        links = [attrs.get(name, getattr(self.instance, name, None)) for name in ("track_links", "smart_link_url")]
        check_link_options(body, LinkOptions(bool(links[0]), links[1] or ""))
        return attrs

    def _check_smart_delivery(self, attrs) -> None:
        """Smart Delivery options with the draft's current values (a new campaign's defaults) for those not given."""
        current = self.instance or Campaign()
        value = lambda name: attrs.get(name, getattr(current, name))  # noqa: E731
        try:
            attrs["smart_test_numbers"] = check_options(
                self.context["account"],
                value("audience"),
                enabled=value("smart_delivery"),
                test_size=value("smart_test_size"),
                test_numbers=value("smart_test_numbers"),
            )
        except SendingError as error:
            raise serializers.ValidationError({error.field: [str(error)]}) from None


class ScheduleSerializer(serializers.Serializer):
    time = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="`now`, or a future time (YYYY-MM-DD HH:MM:SS in the account's zone, or ISO 8601). Empty: the "
        "draft's start time, or now when it has none. A past time is refused (422).",
    )


class CampaignViewSet(AccountScopedViewSet):
    """Campaigns: drafts are edited; `schedule` starts them (now or later); they run, pause, resume, cancel."""

    queryset = Campaign.objects.select_related("sender", "template")
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilterSet
    resource_name = "Campaign"
    ordering_fields = ["created_at", "start_at", "name"]
    capabilities = {"stats": "read", "quote": "read"}

    def perform_create(self, serializer):
        campaign = serializer.save(
            account=self.request.account, created_by=self.request.user, api_token=self.request.token
        )
        record(campaign.account, self.request.user, "campaign.created", campaign)

    def perform_update(self, serializer):
        if serializer.instance.state != CampaignState.DRAFT:
            raise Conflict("Only a draft campaign can be changed.")
        serializer.save()

    def perform_destroy(self, instance):
        if instance.state not in (CampaignState.DRAFT, CampaignState.CANCELLED):
            raise Conflict("Only a draft or cancelled campaign can be deleted; cancel it first.")
        record(instance.account, self.request.user, "campaign.deleted", instance)
        instance.delete()

    def _act(self, service, message: str, **kwargs):
        campaign = service(self.get_object(), actor=self.request.user, **kwargs)
        return envelope(self.get_serializer(campaign).data, message)

    @extend_schema(request=ScheduleSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request, id=None):
        serializer = ScheduleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        value = serializer.validated_data.get("time")
        send_now = str(value or "").strip().lower() == "now"
        start_at = None if send_now else parse_send_time(value, request.account)
        return self._act(
            schedule_campaign, "Campaign Scheduled", start_at=start_at, send_now=send_now, time_field="time"
        )

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, id=None):
        return self._act(cancel_campaign, "Campaign Cancelled")

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, id=None):
        return self._act(pause_campaign, "Campaign Paused")

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, id=None):
        return self._act(resume_campaign, "Campaign Resumed")

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def stats(self, request, id=None):
        return envelope(campaign_stats(self.get_object()), "Campaign Stats")

    @extend_schema(responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["get"])
    def quote(self, request, id=None):
        counts = quote_campaign(self.get_object())
        return envelope(dict(counts.as_dict(), currency=request.account.currency), "Campaign Quote")
