"""Browser routes of the opt-out pages (included by contacts/urls.py, namespace `contacts`)."""

from django.urls import path

from contacts.services_unsubscribers import OPT_OUT_CLEANUP
from contacts.views import numbers
from contacts.views import unsubscribers as views
from portal.models import ExportKind
from portal.roles import WRITE
from portal.views_cleanup import CleanupRestoreView
from portal.views_exports import StartExportView

urlpatterns = [
    path("unsubscribers/", views.UnsubscriberListView.as_view(), name="unsubscriber_list"),
    path("unsubscribers/new/", views.UnsubscriberCreateView.as_view(), name="unsubscriber_create"),
    path("unsubscribers/import/", views.UnsubscriberImportView.as_view(), name="unsubscriber_import"),
    path(
        "unsubscribers/import/<uuid:uid>/",
        views.UnsubscriberImportStatusView.as_view(),
        name="unsubscriber_import_status",
    ),
    path("unsubscribers/export.csv", views.UnsubscriberExportView.as_view(), name="unsubscriber_export"),
    path("unsubscribers/delete-all/", views.UnsubscriberCleanView.as_view(), name="unsubscriber_clean"),
    path(
        "unsubscribers/clean-ups/<uuid:uid>/restore/",
        CleanupRestoreView.as_view(
            kind_name=OPT_OUT_CLEANUP.name, required_capability=WRITE, list_url="contacts:unsubscriber_list"
        ),
        name="unsubscriber_restore_clean",
    ),
    path("unsubscribers/settings/", views.OptOutSettingsView.as_view(), name="unsubscriber_settings"),
    path("unsubscribers/<uuid:uid>/edit/", views.UnsubscriberEditView.as_view(), name="unsubscriber_edit"),
    path("unsubscribers/<uuid:uid>/delete/", views.UnsubscriberDeleteView.as_view(), name="unsubscriber_delete"),
    path("inbound/", views.InboundListView.as_view(), name="inbound_list"),
    path(
        "inbound/export/",
        StartExportView.as_view(kind=ExportKind.INBOUND, list_url="contacts:inbound_list"),
        name="inbound_export",
    ),
    path("numbers/", numbers.NumberListView.as_view(), name="number_list"),
    path("numbers/keywords/", numbers.KeywordRouteCreateView.as_view(), name="keyword_route_create"),
    path("numbers/keywords/<uuid:uid>/delete/", numbers.KeywordRouteDeleteView.as_view(), name="keyword_route_delete"),
]
