"""`filter[...]` of the import history (API and UI share it)."""

import django_filters as filters

from contacts.models import Import, ImportKind, ImportState


class ImportFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ImportKind.choices)
    state = filters.ChoiceFilter(choices=ImportState.choices)
    file_name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Import
        fields = ["kind", "state", "file_name"]
