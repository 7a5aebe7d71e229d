"""The login forms of the portal and of the Django admin, and the login's two-factor code step, guarded against
brute force (portal.brute_force): a wrong password and a wrong code count alike, for the client address and for
the user."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from portal import brute_force
from portal.middleware import client_ip
from portal.two_factor import devices


def address_of(request) -> str:
    return client_ip(request) if request is not None else ""


def refusal_before_check(user, address: str) -> brute_force.Refusal | None:
    """An address out of attempts, or a locked-out user: the attempt is refused unchecked (a locked-out user's
    attempt still counts for the address)."""
    refusal = brute_force.address_refusal(brute_force.LOGIN, address)
    if refusal is None and user is not None:
        refusal = brute_force.lockout_refusal(user)
        if refusal is not None:
            brute_force.address_failed(brute_force.LOGIN, address)
    return refusal


def count_failure(user, address: str) -> brute_force.Refusal | None:
    """A wrong password or code: counted for the address and for the user (whose lock-out may start now)."""
    brute_force.address_failed(brute_force.LOGIN, address)
    return None if user is None else brute_force.password_failed(user, address)


def code_field(help_text: str, **attrs) -> forms.CharField:
    """A code from the authenticator app (6 digits) or a backup code (8 characters, a dash allowed)."""
    attrs = {"autocomplete": "one-time-code", "spellcheck": "false", **attrs}
    return forms.CharField(
        label="Authentication code", max_length=32, help_text=help_text, widget=forms.TextInput(attrs)
    )


def refuse(refusal: brute_force.Refusal):
    raise forms.ValidationError(refusal.message, code=refusal.reason)


class GuardedLogin:
    """Refuses a throttled address or a locked-out user before the password is checked (`refusal` says why);
    counts a wrong password for the address and for the user it names. A user with two-factor login keeps their
    count of failures until the code step succeeds too."""

    refusal: brute_force.Refusal | None = None

    def clean(self):
        address = address_of(self.request)
        user = brute_force.user_named(self.cleaned_data.get("username"))
        self.refusal = refusal_before_check(user, address)
        if self.refusal is not None:
            refuse(self.refusal)
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.user_cache is None:
                self.refusal = count_failure(user, address)
                if self.refusal is not None:
                    refuse(self.refusal)
            raise
        if self.user_cache is not None and not devices.is_enabled(self.user_cache):
            brute_force.password_succeeded(self.user_cache)
        return cleaned


class GuardedLoginForm(GuardedLogin, AuthenticationForm):
    pass


class GuardedAdminLoginForm(GuardedLogin, AdminAuthenticationForm):
    pass


class LoginCodeForm(forms.Form):
    """The login's second step: a code from the authenticator app or a backup code, for the user whose password
    was right; guarded like the password (`refusal`), `device` is the one that accepted the code."""

    code = code_field("The 6 digits your authenticator app shows, or one of your backup codes.", autofocus=True)

    def __init__(self, *args, request, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.request, self.user = request, user
        self.refusal: brute_force.Refusal | None = None
        self.device = None

    def clean(self):
        cleaned = super().clean()
        address = address_of(self.request)
        self.refusal = refusal_before_check(self.user, address)
        if self.refusal is not None:
            refuse(self.refusal)
        if "code" not in cleaned:
            return cleaned
        self.device = devices.verify(self.user, cleaned["code"])
        if self.device is None:
            self.refusal = count_failure(self.user, address)
            if self.refusal is not None:
                refuse(self.refusal)
            raise forms.ValidationError("That code is not valid. Try the current one.", code="invalid_code")
        brute_force.password_succeeded(self.user)
        return cleaned
