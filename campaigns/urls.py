"""Browser routes of the campaigns app."""

from campaigns.urls_sending import urlpatterns as sending_urls
from campaigns.urls_templates import urlpatterns as template_urls

app_name = "campaigns"

urlpatterns = [
    *template_urls,
    *sending_urls,
]
