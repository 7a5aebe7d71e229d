"""Spending caps of the account (GET/PATCH /account/caps): daily and monthly, messages and money, with what was
charged in the current day and month (the account's time zone). Any role reads them; only account admins change
them (`portal.caps.set_caps`, audited). A token's own caps are set on /auth/tokens/{id}.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers

from campaigns.sending.caps import summary
from portal.api.responses import envelope
from portal.api.viewsets import AccountAPIView
from portal.caps import set_caps, shown
from portal.models import SPENDING_CAP_FIELDS, Account
from portal.roles import MANAGE


class AccountCapsSerializer(serializers.ModelSerializer):
    class Meta:
        model = Account
        fields = list(SPENDING_CAP_FIELDS)


def caps_data(account: Account) -> dict:
    """Each cap (null: none) with `used` in its period and `resets_at`."""
    return {
        name: {"cap": shown(entry["cap"]), "used": shown(entry["used"]), "resets_at": entry["resets_at"].isoformat()}
        for name, entry in summary(account, account).items()
    } | {"currency": account.currency, "time_zone": account.time_zone}


class AccountCapsView(AccountAPIView):
    resource_name = "Spending caps"
    capabilities = {"PATCH": MANAGE}

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="The account's spending caps and what was charged")
    def get(self, request):
        account = Account.objects.get(pk=request.account.pk)
        return envelope(caps_data(account), "Spending Caps")

    @extend_schema(request=AccountCapsSerializer, responses=OpenApiTypes.OBJECT, summary="Set spending caps")
    def patch(self, request):
        account = Account.objects.get(pk=request.account.pk)
        serializer = AccountCapsSerializer(account, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        set_caps(account, serializer.validated_data, actor=request.user)
        return envelope(caps_data(account), "Spending Caps Saved")
