"""Browser routes of the opt-out pages (included by contacts/urls.py, namespace `contacts`)."""

from django.urls import path

from contacts.views import unsubscribers as views

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
    path("unsubscribers/settings/", views.OptOutSettingsView.as_view(), name="unsubscriber_settings"),
    path("unsubscribers/<uuid:uid>/edit/", views.UnsubscriberEditView.as_view(), name="unsubscriber_edit"),
    path("unsubscribers/<uuid:uid>/delete/", views.UnsubscriberDeleteView.as_view(), name="unsubscriber_delete"),
    path("inbound/", views.InboundListView.as_view(), name="inbound_list"),
]
