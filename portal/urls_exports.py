"""Pages of Settings → Exports (included in the `portal` namespace)."""

from django.urls import path

from portal import views_exports as views

urlpatterns = [
    path("settings/exports/", views.ExportListView.as_view(), name="export_list"),
    path("settings/exports/<uuid:uid>/download/", views.ExportDownloadView.as_view(), name="export_download"),
]
