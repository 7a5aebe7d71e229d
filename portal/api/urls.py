"""The portal's own API endpoints under `/api/v2/` (apps add theirs in `<app>/api/urls.py`)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from portal.api import exports, webhooks
from portal.api.routers import Router
from portal.api.views import ApiTokenViewSet, MeView

router = Router()
router.register("auth/tokens", ApiTokenViewSet, basename="token")
webhooks.register(router)
exports.register(router)

urlpatterns = [
    path("auth/me", MeView.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="portal-api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="portal-api:schema"), name="redoc"),
    *router.urls,
]
