"""Filters of the contact, tag, group, segment and identifier lists (`filter[x]` in the API, query string in the UI)."""

import re

import django_filters as filters
from django.db.models import Q
from django.db.models.functions import Lower

from contacts.audience import contacts_in_groups_q, contacts_with_tags_q, is_uid, segment_q, segments_with_rules
from contacts.models import Contact, Group, Identifier, IdentifierType, Segment, Tag

_NON_DIGITS = re.compile(r"\D")
_PHONE_LIKE = re.compile(r"^[\d\s()+\-.]{3,}$")


def _account(filterset):
    return getattr(filterset.request, "account", None)


def _named(model, account, value: str):
    """The account's object with this uid, or else with this name (case-insensitive); None when missing."""
    value = (value or "").strip()
    scoped = model.objects.filter(account=account)
    if is_uid(value):
        return scoped.filter(uid=value).first()
    return scoped.annotate(name_key=Lower("name")).filter(name_key=value.lower()).first()


def search_q(text: str) -> Q:
    """Contacts whose name, phone, e-mail or identity matches the search text."""
    text = text.strip()
    if not text:
        return Q()
    condition = Q(email__icontains=text) | Q(identity__iexact=text) | Q(company__icontains=text)
    for word in text.split():
        condition |= Q(first_name__icontains=word) | Q(last_name__icontains=word)
    if len(text.split()) > 1:
        first, _, last = text.partition(" ")
        condition |= Q(first_name__icontains=first, last_name__icontains=last.strip())
    if _PHONE_LIKE.match(text):
        digits = _NON_DIGITS.sub("", text)
        if digits:
            condition |= Q(phone__contains=digits.lstrip("0") or digits)
    return condition


class ContactFilterSet(filters.FilterSet):
    q = filters.CharFilter(method="filter_search", label="Search")
    tag = filters.CharFilter(method="filter_tag", label="Tag")
    group = filters.CharFilter(method="filter_group", label="Group")
    segment = filters.CharFilter(method="filter_segment", label="Segment")
    country = filters.CharFilter(field_name="country", lookup_expr="iexact")
    number_type = filters.CharFilter(field_name="number_type")
    phone = filters.CharFilter(field_name="phone")
    identity = filters.CharFilter(field_name="identity")
    email = filters.CharFilter(field_name="email", lookup_expr="iexact")
    created_after = filters.DateFilter(field_name="created_at", lookup_expr="date__gte", label="Created from")
    created_before = filters.DateFilter(field_name="created_at", lookup_expr="date__lte", label="Created until")

    class Meta:
        model = Contact
        fields = []

    def filter_search(self, queryset, name, value):
        return queryset.filter(search_q(value))

    def filter_tag(self, queryset, name, value):
        tag = _named(Tag, _account(self), value)
        return queryset.filter(contacts_with_tags_q([tag.pk])) if tag else queryset.none()

    def filter_group(self, queryset, name, value):
        group = _named(Group, _account(self), value)
        return queryset.filter(contacts_in_groups_q([group.pk])) if group else queryset.none()

    def filter_segment(self, queryset, name, value):
        account = _account(self)
        segment = None
        if is_uid(value):
            segment = segments_with_rules(Segment.objects.filter(account=account, uid=value)).first()
        return queryset.filter(segment_q(segment)) if segment else queryset.none()


class NameFilterSet(filters.FilterSet):
    """`name` (contains, case-insensitive) for tags, groups and segments."""

    name = filters.CharFilter(field_name="name", lookup_expr="icontains")


class TagFilterSet(NameFilterSet):
    class Meta:
        model = Tag
        fields = []


class GroupFilterSet(NameFilterSet):
    class Meta:
        model = Group
        fields = []


class SegmentFilterSet(NameFilterSet):
    class Meta:
        model = Segment
        fields = []


class IdentifierFilterSet(filters.FilterSet):
    type = filters.ChoiceFilter(choices=IdentifierType.choices)
    value = filters.CharFilter(field_name="value", lookup_expr="iexact")
    contact = filters.UUIDFilter(field_name="contact__uid")

    class Meta:
        model = Identifier
        fields = []
