"""`filter[field]=value` through the view's FilterSet, and `sort=field` / `sort=-field`."""

from django.http import QueryDict
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter


def bracket_params(query_params) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, values in query_params.lists():
        if key.startswith("filter[") and key.endswith("]"):
            data.setlist(key[len("filter[") : -1], values)
    return data


class BracketFilterBackend(DjangoFilterBackend):
    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        kwargs["data"] = bracket_params(request.query_params)
        return kwargs

    def filter_queryset(self, request, queryset, view):
        params = bracket_params(request.query_params)
        filterset_class = self.get_filterset_class(view, queryset)
        known = set(filterset_class.base_filters) if filterset_class else set()
        unknown = sorted(set(params) - known)
        if unknown:
            allowed = ", ".join(sorted(known)) or "none"
            raise ValidationError({f"filter[{name}]": [f"Unknown filter. Allowed: {allowed}."] for name in unknown})
        return super().filter_queryset(request, queryset, view)


class SortFilter(OrderingFilter):
    ordering_param = "sort"

    def get_default_valid_fields(self, queryset, view, context=None):
        return [(name, name) for name in getattr(view, "ordering_fields", None) or ["created_at"]]

    def get_valid_fields(self, queryset, view, context=None):
        fields = getattr(view, "ordering_fields", None) or ["created_at"]
        return [(name, name) for name in fields]

    def remove_invalid_fields(self, queryset, fields, view, request):
        valid = {name for name, _ in self.get_valid_fields(queryset, view, {"request": request})}
        bad = [term for term in fields if term.lstrip("-") not in valid]
        if bad:
            raise ValidationError({"sort": [f"Cannot sort by {', '.join(bad)}. Allowed: {', '.join(sorted(valid))}."]})
        return list(fields)
