"""API: `/exports` — ask for an export of a list (202 + the export), poll it, download its file.

`POST /exports {kind, format, filter: {...}}` takes the filters of the list it exports, by the names that list's
`filter[...]` takes (`GET /sms/messages` for messages and delivery reports, `GET /contacts`, `GET /sms/inbound`),
checked by the same FilterSet; the job runs in a worker. `GET /exports/{id}` tells its state and progress, with
`download_url` once done; `GET /exports/{id}/download` streams the file.
"""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from portal.api.exceptions import Conflict
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.downloads import XLSX
from portal.exports.responses import download_response
from portal.exports.services import create_export
from portal.models import Export, ExportFormat, ExportKind
from portal.roles import READ
from portal.service_errors import ServiceError

__all__ = ["ExportViewSet", "register"]


class ExportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    filter = serializers.DictField(source="filters", child=serializers.CharField(), read_only=True)
    progress = serializers.IntegerField(read_only=True, help_text="Percent of the rows written.")
    rows = serializers.IntegerField(read_only=True, help_text="Rows written (all of them once done).")
    rows_total = serializers.IntegerField(read_only=True, help_text="Rows the filters matched when the job started.")
    size = serializers.IntegerField(read_only=True, help_text="Bytes of the file.")
    created_by = serializers.CharField(source="created_by.email", read_only=True, default=None)
    download_url = serializers.SerializerMethodField(help_text="Where to download the file, once done.")

    class Meta:
        model = Export
        fields = [
            "id",
            "kind",
            "format",
            "filter",
            "state",
            "progress",
            "rows",
            "rows_total",
            "file_name",
            "size",
            "error",
            "download_url",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
        ]
        read_only_fields = fields

    def get_download_url(self, export: Export) -> str | None:
        if not export.is_downloadable:
            return None
        path = reverse("portal-api:export-download", kwargs={"id": export.uid})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class ExportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ExportKind.choices)
    format = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.CSV)
    filter = serializers.DictField(
        required=False,
        default=dict,
        help_text=(
            "The list's filters by name, as its `filter[name]` takes them: messages and delivery_reports those of "
            "GET /sms/messages (status, mobile, sender, campaign, group_id, custom, error_code, country, date_from, "
            "date_to), contacts those of GET /contacts, inbound those of GET /sms/inbound."
        ),
    )


class ExportViewSet(AccountScopedViewSet):
    """The account's exports, newest first; anyone who may read the lists may export them."""

    queryset = Export.objects.select_related("created_by")
    serializer_class = ExportSerializer
    http_method_names = ["get", "post", "head", "options"]
    resource_name = "Export"
    capabilities = {"create": READ}
    ACTION_MESSAGES = {**AccountScopedViewSet.ACTION_MESSAGES, "create": "Export accepted"}

    @extend_schema(
        request=ExportRequestSerializer,
        responses={202: ExportSerializer},
        summary="Export a list (messages, delivery reports, inbound messages, contacts) as CSV or XLSX",
    )
    def create(self, request, *args, **kwargs):
        given = ExportRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        export = create_export(
            request.account, request.user, kind=data["kind"], file_format=data["format"], filters=data["filter"]
        )
        return envelope(self.get_serializer(export).data, "Export accepted", status=202)

    @extend_schema(
        summary="Download the file of a finished export",
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
            409: OpenApiResponse(description="The export is not done (queued, running or failed)."),
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request, *args, **kwargs):
        try:
            return download_response(self.get_object(), request.user)
        except ServiceError as exc:
            raise Conflict(str(exc)) from None


def register(router) -> None:
    router.register("exports", ExportViewSet, basename="export")
