"""Balance and pricing pages; platform staff add credits and import price lists here."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views import View

from campaigns.filtersets_sending import PriceFilterSet
from campaigns.models import BalanceTransaction
from campaigns.price_files import export_prices, import_prices
from campaigns.pricing import effective_prices
from campaigns.sending.billing import add_credits
from campaigns.sending.errors import SendingError
from portal import htmx
from portal.downloads import attachment
from portal.models import Account
from portal.views import AccountViewMixin


class BalanceView(AccountViewMixin, View):
    template_name = "campaigns/campaign_balance.html"

    def get(self, request):
        context = {
            "account": Account.objects.get(pk=self.account.pk),
            "transactions": BalanceTransaction.objects.for_account(self.account).select_related("actor", "campaign")[
                :100
            ],
            "can_credit": request.user.is_staff,
        }
        return htmx.render(request, self.template_name, context)

    def post(self, request):
        if not request.user.is_staff:
            raise PermissionDenied("Only platform staff can add credits.")
        try:
            amount = Decimal(request.POST.get("credits", "").strip())
            add_credits(self.account, amount, actor=request.user, note=request.POST.get("note", "").strip())
            messages.success(request, f"{amount} {self.account.currency} added.")
        except (InvalidOperation, SendingError) as error:
            messages.error(request, str(error) if isinstance(error, SendingError) else "Credits must be a number.")
        return redirect("campaigns:balance")


class PricingView(AccountViewMixin, View):
    template_name = "campaigns/campaign_pricing.html"

    def get(self, request):
        filterset = PriceFilterSet(request.GET, queryset=effective_prices(self.account))
        if request.GET.get("format") == "xlsx":
            return attachment(export_prices(filterset.qs), "pricing.xlsx")
        context = {"filter": filterset, "prices": filterset.qs[:500], "can_import": request.user.is_staff}
        return htmx.render(request, self.template_name, context, partial="price-rows")

    def post(self, request):
        if not request.user.is_staff:
            raise PermissionDenied("Only platform staff can import prices.")
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "Choose an xlsx file.")
            return redirect("campaigns:pricing")
        try:
            result = import_prices(upload)
        except Exception:
            messages.error(request, "The file is not a readable xlsx workbook.")
            return redirect("campaigns:pricing")
        messages.success(request, f"{result.saved} prices saved.")
        for error in result.errors[:20]:
            messages.warning(request, error)
        return redirect("campaigns:pricing")
