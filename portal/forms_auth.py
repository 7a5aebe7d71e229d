"""The login forms of the portal and of the Django admin, guarded against brute force (portal.brute_force)."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from portal import brute_force
from portal.middleware import client_ip


class GuardedLogin:
    """Refuses a throttled address or a locked-out user before the password is checked (`refusal` says why);
    counts a wrong password for the address and for the user it names."""

    refusal: brute_force.Refusal | None = None

    def clean(self):
        address = client_ip(self.request) if self.request is not None else ""
        user = brute_force.user_named(self.cleaned_data.get("username"))
        self.refusal = brute_force.address_refusal(brute_force.LOGIN, address)
        if self.refusal is None and user is not None:
            self.refusal = brute_force.lockout_refusal(user)
            if self.refusal is not None:
                brute_force.address_failed(brute_force.LOGIN, address)
        if self.refusal is not None:
            raise forms.ValidationError(self.refusal.message, code=self.refusal.reason)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.user_cache is None:
                self._wrong_password(user, address)
            raise
        if self.user_cache is not None:
            brute_force.password_succeeded(self.user_cache)
        return cleaned

    def _wrong_password(self, user, address: str) -> None:
        brute_force.address_failed(brute_force.LOGIN, address)
        if user is None:
            return
        self.refusal = brute_force.password_failed(user, address)
        if self.refusal is not None:
            raise forms.ValidationError(self.refusal.message, code=self.refusal.reason)


class GuardedLoginForm(GuardedLogin, AuthenticationForm):
    pass


class GuardedAdminLoginForm(GuardedLogin, AdminAuthenticationForm):
    pass
