"""API: `/contacts/imports` — upload a file (202 + id), poll it, cancel, start a dry run for real, download errors.

The list loads only the columns it shows (`ImportListSerializer.COLUMNS`): never an import's report (its mapping of
up to `IMPORT_MAX_COLUMNS` columns and notes) nor its options; one import's detail has them. Error counts come from
one subquery, not a query per import.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from contacts.filtersets_imports import ImportFilterSet
from contacts.importing.downloads import REPORT_FORMATS, error_report_response
from contacts.importing.errors import ImportFileError
from contacts.importing.options import parse_import_options, parse_mapping
from contacts.models import Import, ImportKind, ImportRowError
from contacts.services_imports import (
    can_start,
    cancel_import,
    check_request_size,
    create_import,
    delete_import,
    start_import,
)
from portal.api.exceptions import Conflict, PayloadTooLarge
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.downloads import XLSX

__all__ = ["ImportListSerializer", "ImportSerializer", "ImportViewSet"]


def as_api_error(exc: Exception):
    """A file or option problem as the API's error: too large → 413, anything else → 422 on its field."""
    if isinstance(exc, ImportFileError):
        if exc.code == "too_large":
            return PayloadTooLarge(exc.message)
        return serializers.ValidationError({"file": [exc.message]})
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
    return serializers.ValidationError(detail)


class ImportSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    group = serializers.UUIDField(source="group.uid", read_only=True, default=None)
    progress = serializers.IntegerField(source="progress_percent", read_only=True)
    counts = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.email", read_only=True, default=None)
    errors_count = serializers.SerializerMethodField()

    class Meta:
        model = Import
        fields = [
            "id",
            "kind",
            "file_name",
            "file_size",
            "file_type",
            "mode",
            "keep_existing",
            "group",
            "tags",
            "mapping",
            "dry_run",
            "state",
            "attempts",
            "progress",
            "rows_estimate",
            "counts",
            "error",
            "errors_count",
            "report",
            "timings",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_counts(self, job: Import) -> dict:
        return {
            "read": job.rows_read,
            "created": job.created,
            "updated": job.updated,
            "skipped": job.skipped,
            "failed": job.failed,
            "duplicates": job.duplicates,
            "opted_out": job.opted_out,
        }

    def get_error(self, job: Import) -> dict | None:
        return {"code": job.error_code, "message": job.error_message} if job.error_code else None

    def get_errors_count(self, job: Import) -> int:
        total = getattr(job, "errors_total", None)
        return job.row_errors.count() if total is None else total


class ImportListSerializer(ImportSerializer):
    """An import in the history: everything but its report."""

    # The model columns the list shows (the group's and creator's through select_related).
    COLUMNS = (
        "uid",
        "kind",
        "file_name",
        "file_size",
        "file_type",
        "mode",
        "keep_existing",
        "group__uid",
        "tags",
        "mapping",
        "dry_run",
        "state",
        "attempts",
        "rows_estimate",
        "rows_read",
        "created",
        "updated",
        "skipped",
        "failed",
        "duplicates",
        "opted_out",
        "error_code",
        "error_message",
        "timings",
        "created_by__email",
        "created_at",
        "started_at",
        "finished_at",
    )

    class Meta(ImportSerializer.Meta):
        fields = [name for name in ImportSerializer.Meta.fields if name != "report"]
        read_only_fields = fields


def with_error_counts(queryset: QuerySet) -> QuerySet:
    """Imports annotated with `errors_total`, the number of their stored row errors (one subquery)."""
    errors = ImportRowError.objects.filter(job=OuterRef("pk")).order_by().values("job").annotate(total=Count("pk"))
    return queryset.annotate(errors_total=Coalesce(Subquery(errors.values("total")), 0))


class ImportRowErrorSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportRowError
        fields = ["sheet", "row", "column", "value", "code", "reason"]


class ImportUploadSerializer(serializers.Serializer):
    """The documented multipart fields of `POST /contacts/imports` (validated by `parse_import_options`)."""

    file = serializers.FileField(help_text="txt, csv, xls or xlsx (the type is told by content).")
    mode = serializers.ChoiceField(choices=["create", "upsert", "update"], required=False, default="upsert")
    keep_existing = serializers.CharField(required=False, help_text="Fields whose existing value is kept (comma list).")
    group = serializers.CharField(required=False, help_text="Group id or name to add every imported contact to.")
    tags = serializers.CharField(required=False, help_text="Tag names applied to every imported contact (comma list).")
    mapping = serializers.JSONField(required=False, help_text='{"Mobile No": "phone", "Notes": "ignore", "C": "email"}')
    dry_run = serializers.BooleanField(required=False, default=False, help_text="Validate and preview; write nothing.")


class ImportViewSet(AccountScopedViewSet):
    """Contact imports of the account, newest first; history of every kind with `filter[kind]`."""

    queryset = Import.objects.select_related("group", "created_by")
    serializer_class = ImportSerializer
    filterset_class = ImportFilterSet
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    http_method_names = ["get", "post", "delete", "head", "options"]
    resource_name = "Import"
    ordering_fields = ["created_at", "file_name", "state"]
    ACTION_MESSAGES = {
        **AccountScopedViewSet.ACTION_MESSAGES,
        "create": "Import accepted",
        "cancel": "Import cancel requested",
        "start": "Import accepted",
        "row_errors": "Import errors",
    }

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses={202: ImportSerializer})
    def create(self, request, *args, **kwargs):
        try:
            check_request_size(request.META.get("CONTENT_LENGTH"))
        except ImportFileError as exc:
            raise as_api_error(exc) from None
        upload = request.FILES.get("file")
        if upload is None:
            raise serializers.ValidationError({"file": ["Upload a file in the multipart field `file`."]})
        try:
            options = parse_import_options(request.data, request.account, ImportKind.CONTACTS)
            with transaction.atomic():
                job = create_import(request.account, request.user, upload, **options.as_kwargs())
            job = start_import(job)
        except (ImportFileError, DjangoValidationError) as exc:
            raise as_api_error(exc) from None
        return envelope(ImportSerializer(job).data, "Import accepted", status=202)

    def get_queryset(self):
        queryset = with_error_counts(super().get_queryset())
        if self.action == "list":
            return queryset.only(*ImportListSerializer.COLUMNS)
        return queryset

    def get_serializer_class(self):
        return ImportListSerializer if self.action == "list" else ImportSerializer

    def perform_destroy(self, instance):
        delete_import(instance, self.request.user)

    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        job = cancel_import(self.get_object(), request.user)
        return envelope(ImportSerializer(job).data, "Import cancel requested")

    @extend_schema(request=None, responses={202: ImportSerializer})
    @action(detail=True, methods=["post"])
    def start(self, request, *args, **kwargs):
        """Run a finished dry run (or a failed/cancelled import) for real, optionally with a new mapping."""
        job = self.get_object()
        if not can_start(job):
            raise Conflict("The import is still running.")
        try:
            mapping = parse_mapping(request.data.get("mapping"), job.kind) if "mapping" in request.data else None
            job = start_import(job, dry_run=False, mapping=mapping)
        except (ImportFileError, DjangoValidationError) as exc:
            raise as_api_error(exc) from None
        return envelope(ImportSerializer(job).data, "Import accepted", status=202)

    @extend_schema(
        parameters=[OpenApiParameter("download", str, enum=list(REPORT_FORMATS), description="csv or xlsx file")],
        responses={
            (200, "application/json"): ImportRowErrorSerializer(many=True),
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX): OpenApiTypes.BINARY,
        },
    )
    @action(detail=True, methods=["get"], url_path="errors")
    def row_errors(self, request, *args, **kwargs):
        """The rows the import could not write (paginated JSON), or `?download=csv|xlsx` for the whole report."""
        job = self.get_object()
        file_format = request.query_params.get("download")
        if file_format:
            if file_format not in REPORT_FORMATS:
                raise Http404
            return error_report_response(job, file_format)
        page = self.paginate_queryset(job.row_errors.order_by("position", "id"))
        return self.get_paginated_response(ImportRowErrorSerializer(page, many=True).data)

    def filter_queryset(self, queryset):
        if self.action == "row_errors":
            return queryset
        return super().filter_queryset(queryset)
