"""API: `/sms/templates` (CRUD, approve, reject, validate, match, DLT export/import) and `/sms/blocked-templates`."""

from django.urls import re_path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from campaigns import services
from campaigns.api.common import reason_from
from campaigns.api.senders import ReasonSerializer
from campaigns.encoding import analyze
from campaigns.filtersets import BlockedTemplateFilterSet, TemplateFilterSet
from campaigns.matching import match_message
from campaigns.models import BlockedTemplate, BlockedTemplateStatus, Sender, Template, TemplateType
from campaigns.template_files import dlt_export, read_blocked_template_ids, read_dlt_template_ids
from campaigns.template_rules import ERROR, extract_variables, normalize_newlines
from portal.api.cleanup import CLEAN_SCHEMA, clean_response, cleanup_routes
from portal.api.fields import AccountObjectField
from portal.api.responses import envelope
from portal.api.viewsets import AccountScopedViewSet
from portal.downloads import XLSX, attachment
from portal.roles import READ, REVIEW


def encoding_summary(text: str) -> dict:
    info = analyze(text)
    return {"encoding": info.encoding, "characters": info.characters, "units": info.units, "parts": info.parts}


def lint_payload(findings, body: str) -> dict:
    errors = [f for f in findings if f.severity == ERROR]
    return {
        "valid": not errors,
        "errors": len(errors),
        "warnings": len(findings) - len(errors),
        "findings": [f.as_dict() for f in findings],
        "variables": extract_variables(body),
        **encoding_summary(body),
    }


class TemplateSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    type = serializers.ChoiceField(source="template_type", choices=TemplateType.choices)
    alias = serializers.CharField(max_length=100, required=False, allow_blank=True)
    sender = AccountObjectField(Sender, lookup_name="name", help_text="The sender's id or name.")
    consent_template = AccountObjectField(Template, lookup_name="alias", required=False)
    is_english = serializers.BooleanField(required=False, default=True)
    dlt_template_id = serializers.CharField(max_length=40, required=False, allow_blank=True)
    variables = serializers.SerializerMethodField()
    legacy_notice = serializers.SerializerMethodField()
    reviewed_by = serializers.CharField(source="reviewed_by.email", read_only=True, default=None)
    created_by = serializers.CharField(source="created_by.email", read_only=True, default=None)

    class Meta:
        model = Template
        fields = [
            "id",
            "name",
            "alias",
            "body",
            "sender",
            "type",
            "is_english",
            "dlt_template_id",
            "consent_template",
            "status",
            "reason",
            "version",
            "variables",
            "legacy_notice",
            "created_by",
            "reviewed_by",
            "reviewed_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "reason", "version", "reviewed_at", "created_at", "updated_at"]

    def get_variables(self, template) -> list[str]:
        return extract_variables(template.body)

    def get_legacy_notice(self, template) -> str | None:
        if template.is_legacy_type:
            return "Service Explicit was retired in India in 2025; it is sent under the promotional rules."
        return None


class ValidateSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True, trim_whitespace=False)
    type = serializers.ChoiceField(choices=TemplateType.choices, default=TemplateType.PROMOTIONAL)
    is_english = serializers.BooleanField(default=True)
    name = serializers.CharField(required=False, allow_blank=True)
    sender = AccountObjectField(Sender, lookup_name="name", required=False)
    consent_template = AccountObjectField(Template, lookup_name="alias", required=False)
    id = AccountObjectField(
        Template, required=False, help_text="The template being edited (not a duplicate of itself)."
    )


class MatchSerializer(serializers.Serializer):
    sender = AccountObjectField(Sender, lookup_name="name")
    message = serializers.CharField(trim_whitespace=False)


class TemplateViewSet(AccountScopedViewSet):
    """Content templates. A content change of a reviewed template sends it back to pending."""

    queryset = Template.objects.select_related("sender", "consent_template", "created_by", "reviewed_by")
    serializer_class = TemplateSerializer
    filterset_class = TemplateFilterSet
    ordering_fields = ["created_at", "name", "status", "updated_at"]
    resource_name = "Template"
    capabilities = {
        "approve": REVIEW,
        "reject": REVIEW,
        "validate": READ,
        "match": READ,
        "dlt_export": READ,
        "dlt_import": REVIEW,
    }

    def _saved(self, saved: services.SavedTemplate) -> dict:
        return dict(self.get_serializer(saved.template).data, warnings=[f.as_dict() for f in saved.warnings])

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = services.create_template(request.account, acting_user=request.user, **serializer.validated_data)
        return envelope(self._saved(saved), "Template Saved Successfully", status=201)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        template = self.get_object()
        serializer = self.get_serializer(template, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        saved = services.update_template(template, acting_user=request.user, **serializer.validated_data)
        return envelope(self._saved(saved), "Template Updated Successfully")

    def perform_destroy(self, instance):
        services.delete_template(instance, acting_user=self.request.user)

    @extend_schema(request=ReasonSerializer, responses=TemplateSerializer, summary="Approve a pending template")
    @action(detail=True, methods=["post"])
    def approve(self, request, id=None):
        template = services.approve_template(self.get_object(), acting_user=request.user, reason=reason_from(request))
        return envelope(self.get_serializer(template).data, "Template Approved Successfully")

    @extend_schema(request=ReasonSerializer, responses=TemplateSerializer, summary="Reject a pending template")
    @action(detail=True, methods=["post"])
    def reject(self, request, id=None):
        template = services.reject_template(self.get_object(), acting_user=request.user, reason=reason_from(request))
        return envelope(self.get_serializer(template).data, "Template Rejected Successfully")

    @extend_schema(request=ValidateSerializer, responses=OpenApiTypes.OBJECT, summary="Lint a body without saving")
    @action(detail=False, methods=["post"])
    def validate(self, request):
        serializer = ValidateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        findings = services.lint_template(
            request.account,
            body=data["body"],
            template_type=data["type"],
            is_english=data["is_english"],
            sender=data.get("sender"),
            consent_template=data.get("consent_template"),
            name=data.get("name") or None,
            exclude=data.get("id"),
        )
        return envelope(lint_payload(findings, normalize_newlines(data["body"])), "Template Validated")

    @extend_schema(request=MatchSerializer, responses=OpenApiTypes.OBJECT, summary="Find the template a text matches")
    @action(detail=False, methods=["post"])
    def match(self, request):
        serializer = MatchSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        result = match_message(
            request.account, serializer.validated_data["sender"], serializer.validated_data["message"]
        )
        data = {
            "matched": result.matched,
            "template": self.get_serializer(result.template).data if result.template else None,
            "values": result.values,
            "reason": result.reason or None,
            "closest": self.get_serializer(result.closest).data if result.closest else None,
            "difference": None
            if result.difference is None
            else {
                "position": result.difference.position,
                "expected": result.difference.expected,
                "found": result.difference.found,
            },
            **encoding_summary(serializer.validated_data["message"]),
        }
        return envelope(data, "Template Matched" if result.matched else "No Matching Template")

    @extend_schema(responses={(200, XLSX): OpenApiTypes.BINARY}, summary="Approved templates as a DLT xlsx")
    @action(detail=False, methods=["get"], url_path="dlt-export")
    def dlt_export(self, request):
        return attachment(*dlt_export(request.account))

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses=OpenApiTypes.OBJECT,
        summary="Read DLT template ids back from a spreadsheet",
    )
    @action(detail=False, methods=["post"], url_path="dlt-import")
    def dlt_import(self, request):
        upload = _upload(request)
        rows = read_dlt_template_ids(upload)
        summary = services.import_dlt_template_ids(request.account, acting_user=request.user, rows=rows)
        data = {"updated": summary.created, "unchanged": summary.existing, "errors": summary.as_dict()["errors"]}
        return envelope(data, "DLT Template Ids Imported")


def _upload(request):
    upload = request.FILES.get("file")
    if upload is None:
        raise serializers.ValidationError({"file": ["Upload a txt, csv, xls or xlsx file as multipart field `file`."]})
    return upload


class BlockedTemplateSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    template_id = serializers.CharField(max_length=64)
    status = serializers.ChoiceField(choices=BlockedTemplateStatus.choices, required=False)

    class Meta:
        model = BlockedTemplate
        fields = ["id", "template_id", "status", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]


class BlockedTemplateViewSet(AccountScopedViewSet):
    """Template ids that never match and cannot be sent while active. `DELETE` on the list removes them all into
    a restorable clean-up batch."""

    queryset = BlockedTemplate.objects.all()
    serializer_class = BlockedTemplateSerializer
    filterset_class = BlockedTemplateFilterSet
    ordering_fields = ["created_at", "template_id", "status"]
    resource_name = "Blocked Template"
    capabilities = {
        "create": REVIEW,
        "update": REVIEW,
        "partial_update": REVIEW,
        "destroy": REVIEW,
        "clean": REVIEW,
        "import_file": REVIEW,
    }

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        blocked = services.block_template(
            request.account,
            acting_user=request.user,
            template_id=serializer.validated_data["template_id"],
            status=serializer.validated_data.get("status", BlockedTemplateStatus.ACTIVE),
        )
        return envelope(self.get_serializer(blocked).data, "Blocked Template Saved Successfully", status=201)

    def update(self, request, *args, **kwargs):
        blocked = self.get_object()
        serializer = self.get_serializer(blocked, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data.get("template_id", blocked.template_id) != blocked.template_id:
            raise serializers.ValidationError({"template_id": ["Block the new id and delete this entry instead."]})
        status = serializer.validated_data.get("status", blocked.status)
        blocked = services.set_blocked_status(blocked, acting_user=request.user, status=status)
        return envelope(self.get_serializer(blocked).data, "Blocked Template Updated Successfully")

    def perform_destroy(self, instance):
        services.unblock_template(instance, acting_user=self.request.user)

    @extend_schema(
        operation_id="sms_blocked_templates_clean",
        summary="Delete every blocked template id (restorable for 30 days)",
        description=(
            "No parameters. The ids go to a clean-up batch (id in the `Clean-Batch` header, listed by "
            "`GET /sms/blocked-templates/clean-batches`) that `POST /sms/blocked-templates/restore-clean/{id}` "
            "puts back."
        ),
        **CLEAN_SCHEMA,
    )
    def clean(self, request):
        return clean_response(services.clean_blocked_templates(request.account, acting_user=request.user))

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}
        },
        responses=OpenApiTypes.OBJECT,
        summary="Import blocked template ids from txt, csv, xls or xlsx",
        operation_id="sms_blocked_templates_import",
    )
    def import_file(self, request):
        upload = _upload(request)
        rows = read_blocked_template_ids(upload)
        summary = services.import_blocked_templates(request.account, acting_user=request.user, rows=rows)
        return envelope(summary.as_dict(), "Blocked Templates Imported")


blocked_urlpatterns = [
    re_path(
        r"^sms/blocked-templates/import/?$",
        BlockedTemplateViewSet.as_view({"post": "import_file"}),
        name="blocked-template-import",
    ),
    *cleanup_routes(
        "sms/blocked-templates", services.BLOCKED_TEMPLATES_CLEANUP.name, capability=REVIEW, name="blocked-template"
    ),
    re_path(
        r"^sms/blocked-templates/?$",
        BlockedTemplateViewSet.as_view({"get": "list", "post": "create", "delete": "clean"}),
        name="blocked-template-list",
    ),
    re_path(
        r"^sms/blocked-templates/(?P<id>[^/]+)/?$",
        BlockedTemplateViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="blocked-template-detail",
    ),
]
