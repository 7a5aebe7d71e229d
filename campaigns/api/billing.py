"""Money API: the prices that apply (GET /sms/pricing), the balance (GET /account/balance) and credits added by
platform staff (POST /account/credits). Prices come from the one price rule, `campaigns.pricing`.
"""

from decimal import Decimal, InvalidOperation

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers

from campaigns.filtersets_sending import PriceFilterSet
from campaigns.models import Price
from campaigns.pricing import effective_prices
from campaigns.sending.billing import add_credits
from portal.accounts import account_by_reference
from portal.api.filters import BracketFilterBackend
from portal.api.pagination import EnvelopePagination
from portal.api.responses import envelope
from portal.api.viewsets import AccountAPIView
from portal.models import Account


class PriceSerializer(serializers.ModelSerializer):
    iso = serializers.CharField(source="country")

    class Meta:
        model = Price
        fields = ["iso", "service", "price", "currency", "status", "updated_at"]


class PricingView(AccountAPIView):
    """The prices that apply to the account (its own rows override the platform list)."""

    resource_name = "Pricing"

    @extend_schema(responses=PriceSerializer(many=True), summary="Pricing list")
    def get(self, request):
        prices = effective_prices(request.account)
        backend = BracketFilterBackend()
        self.filterset_class = PriceFilterSet
        prices = backend.filter_queryset(request, prices, self)
        paginator = EnvelopePagination()
        page = paginator.paginate_queryset(prices, request, view=self)
        response = paginator.get_paginated_response(PriceSerializer(page, many=True).data)
        response.data["message"] = "Pricing List"
        return response


class BalanceView(AccountAPIView):
    resource_name = "Balance"

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Account balance")
    def get(self, request):
        account = Account.objects.get(pk=request.account.pk)
        return envelope({"balance": str(account.balance), "currency": account.currency}, "OK")


class CreditsSerializer(serializers.Serializer):
    credits = serializers.CharField()
    account = serializers.CharField(
        required=False, allow_blank=True, help_text="Account slug or id; default: the token's."
    )
    username = serializers.CharField(required=False, allow_blank=True, help_text="Seed name of `account`.")
    service = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_credits(self, value):
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            raise serializers.ValidationError("Not a number.") from None
        if amount <= 0:
            raise serializers.ValidationError("Must be positive.")
        return amount


class CreditsView(AccountAPIView):
    """Platform staff add credits to an account (audited)."""

    resource_name = "Credits"
    capabilities = {"POST": "read"}

    @extend_schema(request=CreditsSerializer, responses=OpenApiTypes.OBJECT, summary="Add credits (platform staff)")
    def post(self, request):
        if not request.user.is_staff:
            raise exceptions.PermissionDenied("Only platform staff can add credits.")
        serializer = CreditsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reference = data.get("account") or data.get("username")
        target = request.account
        if reference:
            target = account_by_reference(reference)
            if target is None:
                raise exceptions.NotFound("No such account.")
        note = data.get("note") or (f"Credits for {data['service']}" if data.get("service") else "")
        entry = add_credits(target, data["credits"], actor=request.user, note=note)
        return envelope(
            {"account": target.slug, "credits": str(data["credits"]), "balance": str(entry.balance_after)},
            "Balance added Successfully",
        )
