"""API routes of this app, included under /api/v2/."""

from contacts.api import contacts
from contacts.api.unsubscribers import urlpatterns as unsubscriber_urls
from portal.api.routers import Router

router = Router()
contacts.register(router)

urlpatterns = [
    *unsubscriber_urls,
    *contacts.identifier_routes(),
    *router.urls,
]
