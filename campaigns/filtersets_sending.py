"""FilterSets of messages, prices, campaigns and Verify requests: shared by the API (`filter[x]`) and the HTML lists."""

import django_filters
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign, Message, Price, ScheduledSend, ScheduledSendState, Verification, VerifyStatus
from campaigns.states import CampaignState, MessageState


class MessageFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="state", choices=MessageState.choices)
    mobile = django_filters.CharFilter(field_name="recipient", lookup_expr="contains")
    sender = django_filters.CharFilter(field_name="sender_name", lookup_expr="iexact")
    campaign = django_filters.UUIDFilter(field_name="campaign__uid")
    group_id = django_filters.UUIDFilter(method="filter_group")
    custom = django_filters.CharFilter(field_name="custom_id")
    error_code = django_filters.CharFilter(field_name="error_code")
    country = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    date_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    date_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = Message
        fields = []

    def filter_group(self, queryset, name, value):
        """An API send's group id, or a campaign's id (its messages' group)."""
        return queryset.filter(Q(group_id=value, campaign__isnull=True) | Q(campaign__uid=value))


class PriceFilterSet(django_filters.FilterSet):
    iso = django_filters.CharFilter(field_name="country", lookup_expr="iexact")
    service = django_filters.CharFilter(field_name="service", lookup_expr="iexact")
    status = django_filters.NumberFilter(field_name="status")

    class Meta:
        model = Price
        fields = []


class CampaignFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(field_name="state", choices=CampaignState.choices)
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    sender = django_filters.UUIDFilter(field_name="sender__uid")

    class Meta:
        model = Campaign
        fields = []


class ScheduledSendFilterSet(django_filters.FilterSet):
    sender = django_filters.CharFilter(field_name="sender_name", lookup_expr="iexact")
    state = django_filters.ChoiceFilter(choices=ScheduledSendState.choices, method="filter_state")

    class Meta:
        model = ScheduledSend
        fields = []

    def filter_state(self, queryset, name, value):
        return queryset.in_state(value, timezone.now())


class VerificationFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(field_name="status", choices=VerifyStatus.choices)
    to = django_filters.CharFilter(field_name="to", lookup_expr="contains")
    reference = django_filters.CharFilter(field_name="reference")

    class Meta:
        model = Verification
        fields = []
