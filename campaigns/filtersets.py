"""`filter[...]` of sender, template, blocked template and smart link lists (the API and the HTMX lists share them)."""

import uuid

import django_filters as filters
from django.db.models import Q

from campaigns.models import BlockedTemplate, Sender, SenderStatus, SmartLink, Template, TemplateStatus, TemplateType


class SenderFilterSet(filters.FilterSet):
    name = filters.CharFilter(field_name="name", lookup_expr="icontains")
    status = filters.TypedChoiceFilter(choices=SenderStatus.choices, coerce=int)
    country_code = filters.CharFilter(field_name="country_code", lookup_expr="iexact")
    service = filters.CharFilter(field_name="service", lookup_expr="iexact")

    class Meta:
        model = Sender
        fields = []


class TemplateFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_search", label="Search")
    name = filters.CharFilter(field_name="name", lookup_expr="icontains")
    alias = filters.CharFilter(field_name="alias", lookup_expr="iexact")
    status = filters.ChoiceFilter(choices=TemplateStatus.choices)
    type = filters.ChoiceFilter(field_name="template_type", choices=TemplateType.choices)
    sender = filters.CharFilter(method="filter_sender")
    dlt_template_id = filters.CharFilter(field_name="dlt_template_id")

    class Meta:
        model = Template
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(alias__icontains=value) | Q(body__icontains=value))

    def filter_sender(self, queryset, name, value):
        """A sender's public id or name."""
        try:
            return queryset.filter(sender__uid=uuid.UUID(value))
        except ValueError:
            return queryset.filter(sender__name__iexact=value)


class BlockedTemplateFilterSet(filters.FilterSet):
    template_id = filters.CharFilter(field_name="template_id", lookup_expr="icontains")
    status = filters.NumberFilter(field_name="status")

    class Meta:
        model = BlockedTemplate
        fields = []


class SmartLinkFilterSet(filters.FilterSet):
    campaign = filters.UUIDFilter(field_name="campaign__uid")
    group_id = filters.UUIDFilter(field_name="group_id")

    class Meta:
        model = SmartLink
        fields = []
