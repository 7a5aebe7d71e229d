"""`filter[...]` of the unsubscriber and inbound message lists (API and UI share them)."""

import re

import django_filters as filters
from django.db.models import Q

from contacts.models.unsubscribers import InboundAction, InboundMessage, Unsubscriber, UnsubscriberSource
from contacts.services_unsubscribers import TYPE_ALIASES
from contacts.suppression import normalize_receiver_or_none

_NON_DIGITS = re.compile(r"\D")


def _account_of(filterset):
    return getattr(filterset.request, "account", None)


def _number_q(field: str, account, value: str) -> Q:
    """Exact match on the normalised number when `value` parses, else a digits-contain search."""
    e164 = normalize_receiver_or_none(account, value) if account is not None else None
    if e164:
        return Q(**{field: e164})
    digits = _NON_DIGITS.sub("", value)
    return Q(**{f"{field}__contains": digits}) if digits else Q(pk__in=[])


class UnsubscriberFilterSet(filters.FilterSet):
    id = filters.UUIDFilter(field_name="uid")
    iso = filters.CharFilter(field_name="country", lookup_expr="iexact")
    receiver = filters.CharFilter(method="filter_receiver")
    type = filters.CharFilter(method="filter_type")
    value = filters.CharFilter(field_name="value", lookup_expr="iexact")
    source = filters.ChoiceFilter(choices=UnsubscriberSource.choices, empty_label="Any")
    q = filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = Unsubscriber
        fields = []

    def filter_receiver(self, queryset, name, value):
        return queryset.filter(_number_q("receiver", _account_of(self), value))

    def filter_type(self, queryset, name, value):
        kind = value.strip().lower()
        return queryset.filter(type=TYPE_ALIASES.get(kind, kind))

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(_number_q("receiver", _account_of(self), text) | Q(value__icontains=text))


class InboundMessageFilterSet(filters.FilterSet):
    id = filters.UUIDFilter(field_name="uid")
    from_number = filters.CharFilter(method="filter_from", label="From")
    to = filters.CharFilter(field_name="to", lookup_expr="iexact")
    keyword = filters.CharFilter(field_name="keyword", lookup_expr="iexact")
    action = filters.ChoiceFilter(choices=InboundAction.choices, empty_label="Any")
    provider_id = filters.CharFilter(field_name="provider_id")
    number = filters.UUIDFilter(field_name="number__uid", label="Number")
    q = filters.CharFilter(method="filter_search", label="Search")

    class Meta:
        model = InboundMessage
        fields = []

    def filter_from(self, queryset, name, value):
        return queryset.filter(_number_q("from_number", _account_of(self), value))

    def filter_search(self, queryset, name, value):
        text = value.strip()
        if not text:
            return queryset
        return queryset.filter(_number_q("from_number", _account_of(self), text) | Q(text__icontains=text))


# `filter[from]` (the field is `from` in the API); `from` cannot be a class attribute name.
InboundMessageFilterSet.base_filters["from"] = InboundMessageFilterSet.base_filters.pop("from_number")
