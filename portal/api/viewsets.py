"""Base classes every API endpoint uses: account scoping, envelope, capabilities, public ids."""

from rest_framework import exceptions, viewsets
from rest_framework.views import APIView

from portal.api.input_guard import RejectNulMixin
from portal.api.responses import EnvelopeMixin


class AccountAPIView(RejectNulMixin, EnvelopeMixin, APIView):
    """A non-model endpoint acting in `request.account`."""


class AccountScopedViewSet(RejectNulMixin, EnvelopeMixin, viewsets.ModelViewSet):
    """A ModelViewSet over one account's rows; another account's object is a 404."""

    lookup_field = "uid"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    capabilities: dict[str, str] = {}
    ordering_fields = ["created_at"]
    ordering = ["-created_at"]

    def get_queryset(self):
        return super().get_queryset().filter(account=self.request.account)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["account"] = getattr(self.request, "account", None)
        return context

    def perform_create(self, serializer):
        serializer.save(account=self.request.account)


class PlatformStaffViewSet(RejectNulMixin, EnvelopeMixin, viewsets.ModelViewSet):
    """Platform-wide rows (connectors, routes) for platform staff only: anyone else gets a 403."""

    lookup_field = "uid"
    lookup_url_kwarg = "id"
    lookup_value_regex = "[^/]+"
    staff_only_message = "Only platform staff can do this."

    def check_permissions(self, request):
        super().check_permissions(request)
        if not request.user.is_staff:
            raise exceptions.PermissionDenied(self.staff_only_message)
