"""Login (with its two-factor code step), password reset and member unlock views around portal.brute_force: a
refused attempt answers 429 with Retry-After; a password reset or an account admin's unlock ends a lock-out."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic.edit import FormView

from portal import brute_force
from portal.forms_auth import GuardedLoginForm, LoginCodeForm
from portal.models import Membership
from portal.roles import MANAGE
from portal.two_factor import devices, login_steps
from portal.views import AccountViewMixin


def with_refusal(response, refusal: brute_force.Refusal | None):
    """A refused attempt is answered 429 with Retry-After."""
    if refusal is not None:
        response.status_code = 429
        response["Retry-After"] = str(refusal.retry_after)
    return response


class LoginView(auth_views.LoginView):
    """The password step; a user with two-factor login goes on to the code step instead of being logged in."""

    form_class = GuardedLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if not devices.is_enabled(user):
            return super().form_valid(form)
        login_steps.begin(self.request, user)
        return redirect(f"{reverse('login_code')}?{urlencode({'next': self.get_success_url()})}")

    def form_invalid(self, form):
        return with_refusal(super().form_invalid(form), form.refusal)


@method_decorator([sensitive_post_parameters("code"), csrf_protect, never_cache], name="dispatch")
class LoginCodeView(auth_views.RedirectURLMixin, FormView):
    """The code step of a login with two-factor (portal and Django admin alike)."""

    form_class = LoginCodeForm
    template_name = "registration/login_code.html"

    def dispatch(self, request, *args, **kwargs):
        self.pending = login_steps.pending_user(request)
        if self.pending is None:
            wait = login_steps.PENDING_SECONDS // 60
            messages.info(request, f"Log in with your password first; the code step waits {wait} minutes at most.")
            return redirect(f"{reverse('login')}?{urlencode({'next': self.get_success_url()})}")
        return super().dispatch(request, *args, **kwargs)

    def get_default_redirect_url(self):
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request, "user": self.pending}

    def get_context_data(self, **kwargs):
        return super().get_context_data(**kwargs, next=self.get_success_url())

    def form_valid(self, form):
        login_steps.complete(self.request, self.pending, form.device)
        return redirect(self.get_success_url())

    def form_invalid(self, form):
        if form.refusal is not None and form.refusal.reason == brute_force.LOCKED_OUT:
            self.request.session.pop(login_steps.PENDING_KEY, None)
        return with_refusal(super().form_invalid(form), form.refusal)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        brute_force.unlock(form.user, actor=form.user, via="password reset")
        return response


class MemberUnlockView(AccountViewMixin, View):
    """Settings → Members: an account admin ends a member's lock-out."""

    required_capability = MANAGE

    def post(self, request, pk):
        membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk, account=self.account)
        if brute_force.unlock(membership.user, actor=request.user, via="account admin", account=self.account):
            messages.success(request, f"{membership.user.email or membership.user.username} can log in again.")
        else:
            messages.info(request, f"{membership.user.email or membership.user.username} was not locked out.")
        return redirect("portal:member_list")
