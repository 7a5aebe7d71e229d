"""Forms of the two-factor page: confirm an enrolment with a code; turn two-factor off or replace the backup codes
with the password and a code (wrong ones count as failed logins, portal.forms_auth)."""

from django import forms

from portal.forms_auth import address_of, code_field, count_failure, refusal_before_check, refuse
from portal.two_factor import devices


class EnrolForm(forms.Form):
    code = code_field("The 6 digits the app shows for this account once you added it.")


class PasswordAndCodeForm(forms.Form):
    """Proof for a change of the two-factor settings: the password and a current code (or a backup code)."""

    password = forms.CharField(
        label="Password", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    code = code_field("From your authenticator app, or one of your backup codes.")

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request, self.user = request, request.user
        self.refusal = None

    def clean(self):
        cleaned = super().clean()
        address = address_of(self.request)
        self.refusal = refusal_before_check(self.user, address)
        if self.refusal is not None:
            refuse(self.refusal)
        if "password" in cleaned and not self.user.check_password(cleaned["password"]):
            self._failed(address, "Your password is not right.")
        if "code" in cleaned and devices.verify(self.user, cleaned["code"]) is None:
            self._failed(address, "That code is not valid. Try the current one.")
        return cleaned

    def _failed(self, address: str, message: str):
        self.refusal = count_failure(self.user, address)
        if self.refusal is not None:
            refuse(self.refusal)
        raise forms.ValidationError(message)
