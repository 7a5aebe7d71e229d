"""API of restorable clean-ups, shared by every list that has a "delete all" (`DELETE` on the list).

An app's `DELETE` answers with `clean_response(batch)` and is described by `CLEAN_SCHEMA`; `cleanup_routes(...)`
adds `GET <list>/clean-batches`, `GET <list>/clean-batches/{id}` and `POST <list>/restore-clean/{id}`.
"""

from django.urls import re_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers

from portal import cleanup
from portal.api.exceptions import Conflict
from portal.api.openapi import EnvelopeAutoSchema
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.models import CleanupBatch
from portal.roles import WRITE

BATCH_HEADER = "Clean-Batch"


class CleanupBatchSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    state = serializers.ChoiceField(choices=CleanupBatch.State.choices, read_only=True)
    deleted = serializers.IntegerField(source="row_count", read_only=True)
    created_by = serializers.CharField(source="created_by.email", read_only=True, default=None)
    restorable_until = serializers.DateTimeField(source="expires_at", read_only=True)
    restored_by = serializers.CharField(source="restored_by.email", read_only=True, default=None)
    restored = serializers.IntegerField(source="restored_count", read_only=True, allow_null=True)
    skipped = serializers.IntegerField(
        source="skipped_count", read_only=True, allow_null=True, help_text="Rows created again since the clean-up."
    )

    class Meta:
        model = CleanupBatch
        fields = [
            "id",
            "kind",
            "state",
            "deleted",
            "created_by",
            "created_at",
            "restorable_until",
            "restored_at",
            "restored_by",
            "restored",
            "skipped",
        ]
        read_only_fields = fields


CLEAN_SCHEMA = {
    "request": None,
    "parameters": [
        OpenApiParameter(
            BATCH_HEADER,
            OpenApiTypes.UUID,
            OpenApiParameter.HEADER,
            response=[200],
            description="Id of the clean-up batch holding the deleted rows (absent when there was nothing to delete).",
        )
    ],
    "responses": {
        200: OpenApiResponse(
            description="Deleted; the rows are kept in a clean-up batch, restorable for 30 days.",
            response={"type": "array", "maxItems": 0, "items": {}},
        )
    },
}


def clean_response(batch: CleanupBatch | None):
    """The seed's answer to a clean (`Deleted Successfully`, no data) with the batch id in a header."""
    return envelope([], "Deleted Successfully", headers={BATCH_HEADER: str(batch.uid)} if batch else None)


class CleanupBatchSchema(EnvelopeAutoSchema):
    def get_operation_id(self) -> str:
        """`sms_unsubscribers_restore_clean` rather than the generated `…_restore_clean_create`."""
        operation_id = super().get_operation_id()
        return operation_id.removesuffix("_create") if self.view.action == "restore" else operation_id


class CleanupBatchViewSet(AccountScopedViewSet):
    """Clean-up batches of one kind (set by `cleanup_routes`); `restore` puts a batch's rows back."""

    kind_name = ""
    queryset = CleanupBatch.objects.select_related("created_by", "restored_by")
    serializer_class = CleanupBatchSerializer
    ordering_fields = ["created_at"]
    resource_name = "Clean-up batch"
    resource_plural = "Clean-up batches"
    capabilities = {"restore": WRITE}
    ACTION_MESSAGES = {"list": "Clean-up batches list", "retrieve": "Clean-up batch data"}
    schema = CleanupBatchSchema()

    def get_queryset(self):
        return super().get_queryset().filter(kind=self.kind_name)

    @extend_schema(summary="Recent clean-ups (delete all), newest first, restorable for 30 days")
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One clean-up",
        responses={200: CleanupBatchSerializer},
    )
    def retrieve(self, request, *args, **kwargs):
        return envelope(self.get_serializer(self.get_object()).data, "Clean-up batch data")

    @extend_schema(
        summary="Put back the rows a clean-up deleted",
        description=(
            "Every row comes back as it was (same id, values and creation time), except rows created again since "
            "the clean-up, which are counted in `skipped`. Possible once, within 30 days."
        ),
        request=None,
        responses={
            200: CleanupBatchSerializer,
            404: OpenApiResponse(description="No such clean-up in this account (or it was purged)."),
            409: OpenApiResponse(description="The clean-up was restored already, or has expired."),
        },
    )
    def restore(self, request, id=None):
        try:
            result = cleanup.restore(self.get_object(), request.user)
        except cleanup.NotRestorable as exc:
            raise Conflict(str(exc)) from None
        return envelope(self.get_serializer(result.batch).data, "Restored Successfully")


def cleanup_routes(prefix: str, kind_name: str, *, capability: str, name: str) -> list:
    """Routes of the clean-up batches of `kind_name` under the list `prefix` (e.g. `sms/unsubscribers`);
    restoring needs `capability`, the one that cleaning needs. Put them before the list's `{id}` route."""
    options = {"kind_name": kind_name, "capabilities": {"restore": capability}}
    return [
        re_path(
            rf"^{prefix}/clean-batches/?$",
            CleanupBatchViewSet.as_view({"get": "list"}, **options),
            name=f"{name}-clean-batch-list",
        ),
        re_path(
            rf"^{prefix}/clean-batches/(?P<id>[^/]+)/?$",
            CleanupBatchViewSet.as_view({"get": "retrieve"}, **options),
            name=f"{name}-clean-batch-detail",
        ),
        re_path(
            rf"^{prefix}/restore-clean/(?P<id>[^/]+)/?$",
            CleanupBatchViewSet.as_view({"post": "restore"}, **options),
            name=f"{name}-restore-clean",
        ),
    ]
