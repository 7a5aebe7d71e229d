import zoneinfo

from django import forms
from django.core.exceptions import ValidationError

from portal.ip_lists import clean_allowed_ips
from portal.models import Account
from portal.roles import Role


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses this token, e.g. “CRM sync”.")
    read_only = forms.BooleanField(required=False, help_text="A read-only token can only read, whatever your role.")
    expires_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="Leave empty for a token that does not expire.",
    )
    allowed_ips = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "203.0.113.7, 198.51.100.0/24"}),
        help_text="IP addresses or CIDR ranges, comma or line separated. Empty allows any address.",
    )

    def clean_allowed_ips(self):
        return clean_allowed_ips(self.cleaned_data["allowed_ips"])


class AccountSettingsForm(forms.ModelForm):
    brand_names = forms.CharField(
        required=False, help_text="Comma separated. Templates are checked for at least one of them."
    )

    class Meta:
        model = Account
        fields = [
            "name",
            "default_country",
            "time_zone",
            "entity_type",
            "mobile_secure",
            "hide_msg",
            "brand_names",
            "cta_short_domain_whitelisted",
            "api_read_rate_per_minute",
            "api_write_rate_per_second",
        ]
        labels = {
            "default_country": "Default country for phone numbers",
            "mobile_secure": "Mask phone numbers",
            "hide_msg": "Hide message bodies",
            "api_read_rate_per_minute": "API reads per minute per token",
            "api_write_rate_per_second": "API writes per second per token",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial["brand_names"] = ", ".join(self.instance.brand_names or [])

    def clean_brand_names(self):
        return [name.strip() for name in self.cleaned_data["brand_names"].split(",") if name.strip()]

    def clean_time_zone(self):
        value = self.cleaned_data["time_zone"]
        if value not in zoneinfo.available_timezones():
            raise ValidationError(f"Unknown time zone {value!r}; use a name like Asia/Kolkata.")
        return value

    def clean_default_country(self):
        import phonenumbers

        value = self.cleaned_data["default_country"].upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValidationError(f"{value!r} is not an ISO 3166 country code that phone numbers know.")
        return value


class MemberForm(forms.Form):
    email = forms.EmailField(help_text="A new user gets an e-mail with a link to set their password.")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MARKETER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
