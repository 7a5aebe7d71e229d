"""Platform staff: the connectors with their live bind status (the page polls its table), one connector's binds."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.views import View

from campaigns.connectors.status import connector_status
from campaigns.models import Connector, Route
from portal import htmx
from portal.views import AccountViewMixin


class StaffOnlyMixin(AccountViewMixin):
    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.is_staff:
            raise PermissionDenied("Only platform staff can see the connectors.")
        return super().dispatch(request, *args, **kwargs)


class ConnectorListView(StaffOnlyMixin, View):
    template_name = "campaigns/connector_list.html"

    def get(self, request):
        statuses = [connector_status(connector) for connector in Connector.objects.order_by("name")]
        routes = Route.objects.select_related("route_set").prefetch_related("steps__connector")
        context = {"statuses": statuses, "routes": routes}
        return htmx.render(request, self.template_name, context, partial="connector-rows")


class ConnectorDetailView(StaffOnlyMixin, View):
    template_name = "campaigns/connector_detail.html"

    def get(self, request, uid):
        connector = get_object_or_404(Connector, uid=uid)
        context = {"connector": connector, "status": connector_status(connector)}
        return htmx.render(request, self.template_name, context, partial="bind-rows")
