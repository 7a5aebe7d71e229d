"""The Numbers page: the account's inbound numbers (assigned by platform staff) with the messages each received,
and the keyword routes writers add and remove."""

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from contacts.forms_numbers import KeywordRouteForm
from contacts.models import InboundNumber, KeywordRoute
from portal import htmx
from portal.audit import record
from portal.roles import WRITE
from portal.views import AccountViewMixin

TEMPLATE = "contacts/number_list.html"


def page_context(account, *, can_edit: bool, form=None) -> dict:
    numbers = InboundNumber.objects.for_account(account).annotate(received=Count("messages"))
    routes = KeywordRoute.objects.for_account(account).select_related("number", "webhook")
    return {
        "numbers": numbers.order_by("number"),
        "routes": routes.order_by("keyword"),
        "form": form or KeywordRouteForm(account=account),
        "can_edit": can_edit,
    }


class NumberListView(AccountViewMixin, View):
    def get(self, request):
        return htmx.render(request, TEMPLATE, page_context(self.account, can_edit=self.can(WRITE)))


class KeywordRouteCreateView(AccountViewMixin, View):
    required_capability = WRITE

    def post(self, request):
        form = KeywordRouteForm(request.POST, account=self.account)
        if form.is_valid():
            try:
                with transaction.atomic():
                    route = form.save()
                    record(self.account, request.user, "keyword_route.created", route, after={"keyword": route.keyword})
            except IntegrityError:
                form.add_error("keyword", "This keyword already has a route for this number.")
            else:
                messages.success(request, f"Messages starting with {route.keyword} are now routed.")
                return redirect("contacts:number_list")
        return htmx.render(request, TEMPLATE, page_context(self.account, can_edit=True, form=form), status=422)


class KeywordRouteDeleteView(AccountViewMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        route = get_object_or_404(KeywordRoute.objects.for_account(self.account), uid=uid)
        with transaction.atomic():
            record(self.account, request.user, "keyword_route.deleted", route, before={"keyword": route.keyword})
            route.delete()
        messages.success(request, f"The route of {route.keyword} is removed.")
        return redirect("contacts:number_list")
