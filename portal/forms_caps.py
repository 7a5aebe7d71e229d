"""The spending caps form of the account settings page (account admins)."""

from django import forms

from portal.models import SPENDING_CAP_FIELDS, Account


class SpendingCapsForm(forms.ModelForm):
    """Daily and monthly caps, messages and money; empty: no cap. The model's fields refuse negative values."""

    class Meta:
        model = Account
        fields = list(SPENDING_CAP_FIELDS)
        labels = {
            "daily_message_cap": "Messages per day",
            "monthly_message_cap": "Messages per month",
            "daily_spend_cap": "Spend per day",
            "monthly_spend_cap": "Spend per month",
        }
