"""Forms of the Verify page: the account's Verify settings, a test code to one's own phone and its check.

The settings form checks what the page can (approved choices, {{code}} in the text, ISO countries, ranges);
`campaigns.verify.service` checks the rest when a code is sent. A typed code is never rendered back.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from phonenumbers import SUPPORTED_REGIONS

from campaigns.models import Sender, Template, VerifyChannel, VerifySettings
from campaigns.rendering import variables_in
from campaigns.verify import codes
from campaigns.verify.service import CODE_VARIABLE

TEXT_VARIABLES = (CODE_VARIABLE, "minutes")
SMS_ONLY, SMS_THEN_FLASH, CUSTOM = "sms", "sms_flash", "custom"
CHANNEL_PLANS = {
    SMS_ONLY: [{"channel": VerifyChannel.SMS.value}],
    SMS_THEN_FLASH: [{"channel": VerifyChannel.SMS.value}, {"channel": VerifyChannel.FLASH.value}],
}
CHANNEL_CHOICES = [(SMS_ONLY, "SMS"), (SMS_THEN_FLASH, "SMS then Flash SMS")]
COUNTRY_SPLIT = re.compile(r"[\s,;]+")


def channel_plan(channels: list) -> str:
    """The plan a stored channel list is (`custom` when it was set otherwise, e.g. with a sender per channel)."""
    for plan, listed in CHANNEL_PLANS.items():
        if list(channels or []) == listed:
            return plan
    return CUSTOM


def settings_snapshot(config: VerifySettings) -> dict:
    """The settings the form edits, as the audit trail stores them."""
    values = {field: getattr(config, field) for field in VerifySettingsForm.Meta.fields}
    values["sender"] = config.sender.name if config.sender else None
    values["template"] = config.template.name if config.template else None
    return values


class BlankInput(forms.TextInput):
    """A text input that never renders what was typed (a code must not come back in a page)."""

    def format_value(self, value):
        return None


class VerifySettingsForm(forms.ModelForm):
    sender = forms.ModelChoiceField(
        queryset=Sender.objects.none(),
        to_field_name="uid",
        required=False,
        help_text="Approved senders. Empty: the template's sender.",
    )
    template = forms.ModelChoiceField(
        queryset=Template.objects.none(),
        to_field_name="uid",
        required=False,
        help_text="Approved templates with {{code}}; needed for India (DLT). Empty: the text below.",
    )
    text = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Used without a template; must contain {{code}}, may contain {{minutes}} (the expiry).",
    )
    code_length = forms.IntegerField(min_value=codes.MIN_LENGTH, max_value=codes.MAX_LENGTH, label="Code length")
    expiry_seconds = forms.IntegerField(min_value=30, max_value=86_400, label="Expiry (seconds)")
    channels = forms.ChoiceField(
        choices=CHANNEL_CHOICES, help_text="Flash SMS is sent when the SMS fails or is not delivered in time."
    )
    fallback_seconds = forms.IntegerField(
        min_value=10, max_value=3600, label="Next channel after (seconds)", help_text="Undelivered for this long."
    )
    allowed_countries = forms.CharField(
        required=False,
        max_length=500,
        help_text="ISO codes separated by commas, e.g. IN, GB. Empty: the account's default country only.",
    )
    sends_per_number_per_hour = forms.IntegerField(min_value=1, label="Codes per number per hour")
    sends_per_account_per_minute = forms.IntegerField(min_value=1, label="Codes per account per minute")
    prefix_limit = forms.IntegerField(
        min_value=1,
        label="Prefix limit",
        help_text="Codes to one 6-digit prefix in the window before the prefix is paused (SMS pumping guard).",
    )

    class Meta:
        model = VerifySettings
        fields = [
            "sender",
            "template",
            "text",
            "code_length",
            "expiry_seconds",
            "channels",
            "fallback_seconds",
            "allowed_countries",
            "on_repeat",
            "sends_per_number_per_hour",
            "sends_per_account_per_minute",
            "prefix_limit",
        ]
        labels = {"on_repeat": "A new request while a code is valid"}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sender"].queryset = Sender.objects.for_account(account).approved().order_by("name")
        approved = Template.objects.for_account(account).approved()
        with_code = [pk for pk, body in approved.values_list("pk", "body") if CODE_VARIABLE in variables_in(body)]
        self.fields["template"].queryset = approved.filter(pk__in=with_code).order_by("name")
        plan = channel_plan(self.instance.channels)
        if plan == CUSTOM:
            described = ", ".join(str(item.get("channel", "")) for item in self.instance.channels)
            self.fields["channels"].choices = [*CHANNEL_CHOICES, (CUSTOM, f"Keep as set elsewhere ({described})")]
        self.initial["channels"] = plan
        self.initial["allowed_countries"] = ", ".join(self.instance.allowed_countries or [])
        if self.instance.sender_id:
            self.initial["sender"] = self.instance.sender.uid
        if self.instance.template_id:
            self.initial["template"] = self.instance.template.uid

    def clean_text(self):
        text = self.cleaned_data["text"]
        names = variables_in(text)
        if CODE_VARIABLE not in names:
            raise ValidationError("The text must contain {{code}}.")
        unknown = sorted(set(names) - set(TEXT_VARIABLES))
        if unknown:
            raise ValidationError(f"Only {{{{code}}}} and {{{{minutes}}}} can be used, not {', '.join(unknown)}.")
        return text

    def clean_channels(self):
        plan = self.cleaned_data["channels"]
        return list(self.instance.channels) if plan == CUSTOM else CHANNEL_PLANS[plan]

    def clean_allowed_countries(self):
        given = [part.upper() for part in COUNTRY_SPLIT.split(self.cleaned_data["allowed_countries"]) if part]
        unknown = [code for code in given if code not in SUPPORTED_REGIONS]
        if unknown:
            raise ValidationError(f"Not ISO country codes: {', '.join(unknown)}. Use two letters, e.g. IN, GB.")
        return list(dict.fromkeys(given))


class SendTestCodeForm(forms.Form):
    number = forms.CharField(
        max_length=32,
        label="Your number",
        help_text="A real SMS, charged like any other code.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )


class CheckCodeForm(forms.Form):
    verification = forms.UUIDField(widget=forms.HiddenInput)
    code = forms.RegexField(
        regex=rf"^\d{{{codes.MIN_LENGTH},{codes.MAX_LENGTH}}}$",
        label="Code you received",
        error_messages={"invalid": f"Type the {codes.MIN_LENGTH} to {codes.MAX_LENGTH} digits of the SMS."},
        widget=BlankInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
