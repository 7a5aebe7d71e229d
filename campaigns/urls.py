"""Browser routes of the campaigns app."""

from django.urls import path

from campaigns.urls_sending import urlpatterns as sending_urls
from campaigns.urls_smpp import urlpatterns as smpp_urls
from campaigns.urls_templates import urlpatterns as template_urls
from campaigns.views import links, scheduled, verify

app_name = "campaigns"

urlpatterns = [
    path("<uuid:uid>/links/", links.CampaignLinksView.as_view(), name="campaign_links"),  # before the actions
    *template_urls,
    *sending_urls,
    *smpp_urls,
    path("scheduled/", scheduled.ScheduledSendListView.as_view(), name="scheduled_list"),
    path("scheduled/<uuid:uid>/cancel/", scheduled.ScheduledSendCancelView.as_view(), name="scheduled_cancel"),
    path("verify/", verify.VerifyView.as_view(), name="verify"),
    path("verify/settings/", verify.VerifySettingsView.as_view(), name="verify_settings"),
    path("verify/test/", verify.VerifyTestSendView.as_view(), name="verify_test_send"),
    path("verify/test/check/", verify.VerifyTestCheckView.as_view(), name="verify_test_check"),
    path("verify/pauses/<uuid:uid>/lift/", verify.VerifyPrefixLiftView.as_view(), name="verify_prefix_lift"),
]
