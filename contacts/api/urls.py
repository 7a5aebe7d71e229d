"""API routes of this app, included under /api/v2/."""

from contacts.api import contacts, numbers
from contacts.api.imports import ImportViewSet
from contacts.api.unsubscribers import urlpatterns as unsubscriber_urls
from portal.api.routers import Router

router = Router()
router.register("contacts/imports", ImportViewSet, basename="import")
contacts.register(router)
numbers.register(router)

urlpatterns = [
    *unsubscriber_urls,
    *contacts.identifier_routes(),
    *router.urls,
]
