"""A probe API used only by the convention tests: exercises every error class through the real stack."""

import django_filters
from django.urls import include, path
from rest_framework.decorators import action

from portal.api.exceptions import Conflict
from portal.api.routers import Router
from portal.api.views import ApiTokenSerializer
from portal.api.viewsets import AccountScopedViewSet
from portal.models import ApiToken
from portal.tokens import issue_token
from portal.urls import handler400, handler403, handler404, handler500  # noqa: F401


class ProbeFilterSet(django_filters.FilterSet):
    class Meta:
        model = ApiToken
        fields = ["name", "read_only"]


class ProbeViewSet(AccountScopedViewSet):
    queryset = ApiToken.objects.select_related("user")
    serializer_class = ApiTokenSerializer
    filterset_class = ProbeFilterSet
    resource_name = "Probe"
    ordering_fields = ["name", "created_at"]
    capabilities = {"create": "review", "destroy": "manage", "explode": "read", "clash": "write"}

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = issue_token(self.request.account, self.request.user, data["name"]).token

    @action(detail=False, methods=["get"])
    def explode(self, request):
        raise RuntimeError("boom")

    @action(detail=False, methods=["post"])
    def clash(self, request):
        raise Conflict("State transition not allowed.")


router = Router()
router.register("probes", ProbeViewSet, basename="probe")

urlpatterns = [
    path("api/v2/", include((router.urls, "probe-api"))),
    path("", include("portal.urls")),
]
