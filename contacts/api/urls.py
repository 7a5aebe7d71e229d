"""API routes of this app, included under /api/v2/."""

from contacts.api.unsubscribers import urlpatterns as unsubscriber_urls
from portal.api.routers import Router

router = Router()

urlpatterns = [
    *unsubscriber_urls,
    *router.urls,
]
