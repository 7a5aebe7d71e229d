"""The short host's route: codes under the path of SHORT_LINK_BASE_URL ("l/<code>" for http://127.0.0.1:8000/l)."""

from django.urls import path

from campaigns.links import short_link_path
from campaigns.views.links import follow_short_link

app_name = "short-links"

urlpatterns = [path(f"{short_link_path()}<str:code>", follow_short_link, name="follow")]
