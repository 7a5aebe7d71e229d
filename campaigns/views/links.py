"""Smart links in the browser: the short host's redirect (public, no session needed) and the campaign page's
block of links with their clicks."""

import logging

from django.http import HttpResponseNotAllowed, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.views import View

from campaigns.conf import setting
from campaigns.link_visits import find_short_link, record_visit
from campaigns.links import short_url_length, smart_links_with_counts
from campaigns.models import Campaign, SmartLink
from portal.views import AccountViewMixin

logger = logging.getLogger(__name__)


class RedirectThenRecord(HttpResponseRedirect):
    """A 302 whose visit is recorded once it has been sent: the WSGI server closes the response after writing it,
    so the phone is on its way while the visit, its event and the webhook fan-out are written."""

    def __init__(self, to: str, record=None):
        super().__init__(to)
        self.record = record

    def close(self):
        try:
            if self.record is not None:
                self.record()
        except Exception:
            logger.exception("a smart link visit could not be recorded")
        finally:
            self.record = None
            super().close()


def follow_short_link(request, code: str):
    """302 to the short URL's target, the visit recorded after the answer (GET; before it without
    SHORT_LINK_RECORD_AFTER_ANSWER); HEAD answers without recording; 404 for an unknown code."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    short = find_short_link(code)
    if short is None:
        return HttpResponseNotFound("No such link.", content_type="text/plain")
    after_answer = None
    if request.method == "GET":
        user_agent, ip = request.META.get("HTTP_USER_AGENT", ""), request.client_ip

        def record():
            record_visit(short, user_agent=user_agent, ip=ip)

        if setting("SHORT_LINK_RECORD_AFTER_ANSWER"):
            after_answer = record
        else:
            record()
    response = RedirectThenRecord(short.destination, after_answer)
    response["Cache-Control"] = "no-store"  # every visit reaches the portal and is counted
    response["Referrer-Policy"] = "no-referrer"
    return response


class CampaignLinksView(AccountViewMixin, View):
    """The campaign page's smart links: each shortened URL with its recipients, clicks and visitors."""

    def get(self, request, uid):
        campaign = get_object_or_404(Campaign.objects.for_account(self.account), uid=uid)
        links = smart_links_with_counts(SmartLink.objects.filter(campaign=campaign)).order_by("position")
        context = {"campaign": campaign, "links": links, "short_url_length": short_url_length()}
        return render(request, "campaigns/_campaign_links.html", context)
