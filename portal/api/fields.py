"""Serializer fields shared by every app's API."""

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


@extend_schema_field(OpenApiTypes.STR)
class AccountObjectField(serializers.Field):
    """An object of the caller's account given by its public id (or by `lookup_name`, e.g. a sender's name)."""

    def __init__(self, model, *, lookup_name: str | None = None, **kwargs):
        self.model, self.lookup_name = model, lookup_name
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        account = self.context["account"]
        queryset = self.model.objects.for_account(account)
        text = str(data).strip()
        try:
            found = queryset.filter(uid=uuid.UUID(text)).first()
        except ValueError:
            found = queryset.filter(**{f"{self.lookup_name}__iexact": text}).first() if self.lookup_name else None
        if found is None:
            raise serializers.ValidationError(f"No {self.model._meta.verbose_name} {text!r} in this account.")
        return found

    def to_representation(self, value):
        return str(value.uid) if value is not None else None
