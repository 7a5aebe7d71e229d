"""Browser routes of the contacts app."""

from django.urls import path

from contacts.urls_unsubscribers import urlpatterns as unsubscriber_urls
from contacts.views import contacts, groups, imports, segments, tags
from portal.models import ExportKind
from portal.views_exports import StartExportView

app_name = "contacts"

contact_urls = [
    path("", contacts.ContactListView.as_view(), name="contact_list"),
    path("new/", contacts.ContactFormView.as_view(), name="contact_create"),
    path("bulk/", contacts.ContactBulkView.as_view(), name="contact_bulk"),
    path(
        "export/",
        StartExportView.as_view(kind=ExportKind.CONTACTS, list_url="contacts:contact_list"),
        name="contact_export",
    ),
    path("<uuid:uid>/", contacts.ContactDetailView.as_view(), name="contact_detail"),
    path("<uuid:uid>/edit/", contacts.ContactFormView.as_view(), name="contact_edit"),
    path("<uuid:uid>/delete/", contacts.ContactDeleteView.as_view(), name="contact_delete"),
    path("<uuid:uid>/identifiers/", contacts.IdentifierAddView.as_view(), name="identifier_add"),
    path(
        "<uuid:uid>/identifiers/<uuid:iid>/delete/", contacts.IdentifierDeleteView.as_view(), name="identifier_delete"
    ),
    path("imports/", imports.ImportListView.as_view(), name="import_list"),
    path("imports/<uuid:uid>/", imports.ImportDetailView.as_view(), name="import_detail"),
    path("imports/<uuid:uid>/preview/", imports.ImportPreviewView.as_view(), name="import_preview"),
    path("imports/<uuid:uid>/start/", imports.ImportStartView.as_view(), name="import_start"),
    path("imports/<uuid:uid>/status/", imports.ImportStatusView.as_view(), name="import_status"),
    path("imports/<uuid:uid>/cancel/", imports.ImportCancelView.as_view(), name="import_cancel"),
    path("imports/<uuid:uid>/delete/", imports.ImportDeleteView.as_view(), name="import_delete"),
    path("imports/<uuid:uid>/errors.<str:file_format>", imports.ImportErrorsView.as_view(), name="import_errors"),
    path("tags/", tags.TagListView.as_view(), name="tag_list"),
    path("tags/<uuid:uid>/edit/", tags.TagEditView.as_view(), name="tag_edit"),
    path("tags/<uuid:uid>/delete/", tags.TagDeleteView.as_view(), name="tag_delete"),
    path("groups/", groups.GroupListView.as_view(), name="group_list"),
    path("groups/<uuid:uid>/edit/", groups.GroupEditView.as_view(), name="group_edit"),
    path("groups/<uuid:uid>/delete/", groups.GroupDeleteView.as_view(), name="group_delete"),
    path("segments/", segments.SegmentListView.as_view(), name="segment_list"),
    path("segments/new/", segments.SegmentFormView.as_view(), name="segment_create"),
    path("segments/preview/", segments.SegmentPreviewView.as_view(), name="segment_preview"),
    path("segments/<uuid:uid>/edit/", segments.SegmentFormView.as_view(), name="segment_edit"),
    path("segments/<uuid:uid>/count/", segments.SegmentCountView.as_view(), name="segment_count"),
    path("segments/<uuid:uid>/delete/", segments.SegmentDeleteView.as_view(), name="segment_delete"),
]

urlpatterns = [
    *unsubscriber_urls,
    *contact_urls,
]
