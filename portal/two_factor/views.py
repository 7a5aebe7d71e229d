"""The "Two-factor authentication" page of a logged-in user: enrol an authenticator app (QR code and secret,
confirmed with a code), see the backup codes once, replace them, or turn two-factor off (password and code)."""

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.decorators.cache import never_cache

from portal.two_factor import devices
from portal.two_factor.forms import EnrolForm, PasswordAndCodeForm
from portal.views_auth import with_refusal

TEMPLATE = "portal/two_factor.html"
ENROL, DISABLE, BACKUP_CODES = "enrol", "disable", "backup_codes"


@method_decorator(never_cache, name="dispatch")
class TwoFactorView(LoginRequiredMixin, View):
    def get(self, request):
        return self.page()

    def post(self, request):
        action = request.POST.get("action")
        if action == ENROL and not devices.is_enabled(request.user):
            return self.enrol()
        if action in (DISABLE, BACKUP_CODES) and devices.is_enabled(request.user):
            return self.change(action)
        return redirect("portal:two_factor")

    def enrol(self):
        form = EnrolForm(self.request.POST)
        if not form.is_valid():
            return self.page(enrol_form=form)
        device, codes = devices.confirm_enrolment(self.request.user, form.cleaned_data["code"], actor=self.request.user)
        if device is None:
            form.add_error("code", "That code is not valid. Check the app's clock and try the current code.")
            return self.page(enrol_form=form)
        django_otp.login(self.request, device)
        messages.success(self.request, "Two-factor authentication is on: your next login asks for a code.")
        return self.page(new_codes=codes)

    def change(self, action: str):
        if action == DISABLE and self.staff_must_use_it():
            messages.error(self.request, "Platform staff must keep two-factor authentication on.")
            return redirect("portal:two_factor")
        form = PasswordAndCodeForm(self.request.POST, request=self.request, prefix=action)
        if not form.is_valid():
            return with_refusal(self.page(**{f"{action}_form": form}), form.refusal)
        if action == DISABLE:
            devices.disable(self.request.user, actor=self.request.user)
            messages.success(self.request, "Two-factor authentication is off: your login asks for the password only.")
            return redirect("portal:two_factor")
        codes = devices.replace_backup_codes(self.request.user, actor=self.request.user)
        messages.success(self.request, "New backup codes: the old ones no longer work.")
        return self.page(new_codes=codes)

    def staff_must_use_it(self) -> bool:
        return settings.OTP_REQUIRED_FOR_STAFF and self.request.user.is_staff

    def next_url(self) -> str:
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        safe = url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        )
        return target if safe else ""

    def page(self, **forms):
        user = self.request.user
        context = {"next": self.next_url(), "staff_must_use_it": self.staff_must_use_it(), **forms}
        app = devices.confirmed_app(user)
        if app is None:
            pending = devices.pending_app(user)
            context.update(
                pending=pending,
                qr_code=devices.qr_data_uri(pending),
                secret=devices.secret_of(pending),
                enrol_form=forms.get("enrol_form") or EnrolForm(),
            )
        else:
            context.update(
                app=app,
                backup_codes_left=devices.backup_codes_left(user),
                disable_form=forms.get("disable_form") or PasswordAndCodeForm(request=self.request, prefix=DISABLE),
                backup_codes_form=forms.get("backup_codes_form")
                or PasswordAndCodeForm(request=self.request, prefix=BACKUP_CODES),
            )
        return render(self.request, TEMPLATE, context)
