"""Browser routes of campaigns, the message log, balance and pricing."""

from django.urls import path

from campaigns.views import billing
from campaigns.views import campaigns as campaign_views
from campaigns.views import connectors as connector_views
from campaigns.views import messages as message_views
from portal.models import ExportKind
from portal.views_exports import StartExportView

urlpatterns = [
    path("", campaign_views.CampaignListView.as_view(), name="campaign_list"),
    path("new/", campaign_views.CampaignCreateView.as_view(), name="campaign_create"),
    path("<uuid:uid>/", campaign_views.CampaignDetailView.as_view(), name="campaign_detail"),
    path("<uuid:uid>/<slug:action>/", campaign_views.CampaignActionView.as_view(), name="campaign_action"),
    path("messages/", message_views.MessageListView.as_view(), name="message_list"),
    path(
        "messages/export/",
        StartExportView.as_view(kind=ExportKind.MESSAGES, list_url="campaigns:message_list"),
        name="message_export",
    ),
    path(
        "messages/delivery-reports/export/",
        StartExportView.as_view(kind=ExportKind.DELIVERY_REPORTS, list_url="campaigns:message_list"),
        name="delivery_report_export",
    ),
    path("balance/", billing.BalanceView.as_view(), name="balance"),
    path("pricing/", billing.PricingView.as_view(), name="pricing"),
    path("connectors/", connector_views.ConnectorListView.as_view(), name="connector_list"),
    path("connectors/<uuid:uid>/", connector_views.ConnectorDetailView.as_view(), name="connector_detail"),
]
