"""API routes of this app, included under /api/v2/."""

from django.urls import path

from campaigns.api import billing, caps, links, messages, sending
from campaigns.api.campaigns import CampaignViewSet
from campaigns.api.connectors import ConnectorViewSet
from campaigns.api.routes import RouteViewSet
from campaigns.api.scheduled import ScheduledSendViewSet
from campaigns.api.senders import SenderViewSet
from campaigns.api.smpp import SmppBindFailureListView, SmppCredentialViewSet
from campaigns.api.templates import TemplateViewSet, blocked_urlpatterns
from campaigns.api.verify import VerifyViewSet
from portal.api.routers import Router

router = Router()
router.register("sms/senders", SenderViewSet, basename="sender")
router.register("sms/templates", TemplateViewSet, basename="template")
router.register("sms/messages", messages.MessageViewSet, basename="message")
router.register("sms/links", links.SmartLinkViewSet, basename="smart-link")
router.register("sms/scheduled", ScheduledSendViewSet, basename="scheduled-send")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("sms/connectors", ConnectorViewSet, basename="connector")
router.register("sms/routes", RouteViewSet, basename="route")
router.register("verify", VerifyViewSet, basename="verify")
router.register("smpp/accounts", SmppCredentialViewSet, basename="smpp-account")

urlpatterns = [
    path("sms/send", sending.SendView.as_view(), name="send"),
    path("sms/send/template", sending.SendTemplateView.as_view(), name="send_template"),
    path("sms/dlr", messages.DlrView.as_view(), name="dlr"),
    path("sms/dlr/callback/<uuid:connector_id>/<uuid:message_id>", messages.dlr_callback, name="dlr_callback"),
    path("sms/pricing", billing.PricingView.as_view(), name="pricing"),
    path("sms/pricing/quote", sending.QuoteView.as_view(), name="pricing_quote"),
    path("account/balance", billing.BalanceView.as_view(), name="balance"),
    path("account/credits", billing.CreditsView.as_view(), name="credits"),
    path("account/caps", caps.AccountCapsView.as_view(), name="caps"),
    path("smpp/bind-failures", SmppBindFailureListView.as_view(), name="smpp_bind_failures"),
    *blocked_urlpatterns,
    *router.urls,
]
