"""Browser routes of sender IDs, content templates, the compliance desk and blocked templates."""

from django.urls import path

from campaigns.models import Sender, Template
from campaigns.services import BLOCKED_TEMPLATES_CLEANUP
from campaigns.views import blocked, compliance, senders, templates
from portal.roles import REVIEW
from portal.views_cleanup import CleanupRestoreView

urlpatterns = [
    path("senders/", senders.SenderListView.as_view(), name="sender_list"),
    path("senders/new/", senders.SenderCreateView.as_view(), name="sender_create"),
    path("senders/<uuid:uid>/", senders.SenderDetailView.as_view(), name="sender_detail"),
    path("senders/<uuid:uid>/edit/", senders.SenderEditView.as_view(), name="sender_edit"),
    path("senders/<uuid:uid>/delete/", senders.SenderDeleteView.as_view(), name="sender_delete"),
    path("senders/<uuid:uid>/review/", compliance.ReviewDecisionView.as_view(model=Sender), name="sender_review"),
    path("templates/", templates.TemplateListView.as_view(), name="template_list"),
    path("templates/new/", templates.TemplateCreateView.as_view(), name="template_create"),
    path("templates/lint/", templates.TemplateLintView.as_view(), name="template_lint"),
    path("templates/dlt-export/", templates.DltExportView.as_view(), name="template_dlt_export"),
    path("templates/dlt-import/", templates.DltImportView.as_view(), name="template_dlt_import"),
    path("templates/<uuid:uid>/", templates.TemplateDetailView.as_view(), name="template_detail"),
    path("templates/<uuid:uid>/edit/", templates.TemplateEditView.as_view(), name="template_edit"),
    path("templates/<uuid:uid>/delete/", templates.TemplateDeleteView.as_view(), name="template_delete"),
    path(
        "templates/<uuid:uid>/review/",
        compliance.ReviewDecisionView.as_view(model=Template),
        name="template_review",
    ),
    path("compliance/", compliance.ReviewQueueView.as_view(), name="review_queue"),
    path("compliance/bulk-approve/", compliance.BulkApproveView.as_view(), name="review_bulk_approve"),
    path("blocked-templates/", blocked.BlockedListView.as_view(), name="blockedtemplate_list"),
    path("blocked-templates/import/", blocked.BlockedImportView.as_view(), name="blockedtemplate_import"),
    path("blocked-templates/clean/", blocked.BlockedCleanView.as_view(), name="blockedtemplate_clean"),
    path(
        "blocked-templates/clean-ups/<uuid:uid>/restore/",
        CleanupRestoreView.as_view(
            kind_name=BLOCKED_TEMPLATES_CLEANUP.name,
            required_capability=REVIEW,
            list_url="campaigns:blockedtemplate_list",
        ),
        name="blockedtemplate_restore_clean",
    ),
    path("blocked-templates/<uuid:uid>/", blocked.BlockedUpdateView.as_view(), name="blockedtemplate_update"),
]
