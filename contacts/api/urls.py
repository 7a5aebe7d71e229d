"""API routes of this app, included under /api/v2/."""

from portal.api.routers import Router

router = Router()

urlpatterns = [
    *router.urls,
]
