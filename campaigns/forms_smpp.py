"""Forms of Developers → SMPP: a new credential and a credential's settings.

They only read what was typed; `campaigns.smpp_gateway.credentials` checks it (system_id rules, IP list, limits
within the platform maximums) and its field errors are put back on the form (`campaigns.views.common.apply_errors`).
"""

from django import forms

from campaigns.models import SmppCredential
from campaigns.smpp_gateway.credentials import SYSTEM_ID_MAX_LENGTH

LIMIT_FIELDS = ("bind_limit", "throughput", "window")


def _model_default(name: str) -> int:
    return SmppCredential._meta.get_field(name).default


class SmppCredentialForm(forms.Form):
    """A credential's settings (the edit form); `NewSmppCredentialForm` adds the system_id."""

    label = forms.CharField(required=False, help_text="What binds with it, e.g. “Billing ESME”.")
    allowed_ips = forms.CharField(
        required=False,
        label="Allowed IPs",
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "203.0.113.7, 198.51.100.0/24"}),
        help_text="IP addresses or CIDR ranges, comma or line separated. Empty allows any address.",
    )
    bind_limit = forms.IntegerField(
        initial=_model_default("bind_limit"), help_text="Sessions bound at once (transmitter, receiver, transceiver)."
    )
    throughput = forms.IntegerField(
        initial=_model_default("throughput"), label="Throughput (msg/s)", help_text="Submits per second, all sessions."
    )
    window = forms.IntegerField(initial=_model_default("window"), help_text="Unanswered deliver_sm per session.")
    is_active = forms.BooleanField(required=False, label="Active", help_text="An inactive credential does not bind.")

    @classmethod
    def for_credential(cls, credential: SmppCredential, data=None) -> "SmppCredentialForm":
        initial = {name: getattr(credential, name) for name in ("label", "is_active", *LIMIT_FIELDS)}
        initial["allowed_ips"] = "\n".join(credential.allowed_ips)
        return cls(data, initial=initial)

    @property
    def changes(self) -> dict:
        """The typed values for `credentials.issue_credential` / `update_credential`."""
        return {name: self.cleaned_data[name] for name in self.fields if name != "system_id"}


class NewSmppCredentialForm(SmppCredentialForm):
    system_id = forms.CharField(
        required=False,
        label="system_id",
        widget=forms.TextInput(attrs={"maxlength": SYSTEM_ID_MAX_LENGTH, "autocomplete": "off"}),
        help_text="Optional: leave empty for one made from your account's name. Printable ASCII, no spaces.",
    )
    field_order = ["system_id", "label", "allowed_ips", *LIMIT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["is_active"]
