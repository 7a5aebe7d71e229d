"""Login, password reset and member unlock views around portal.brute_force: a refused login answers 429 with
Retry-After; a password reset or an account admin's unlock ends a lock-out."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from portal import brute_force
from portal.forms_auth import GuardedLoginForm
from portal.models import Membership
from portal.roles import MANAGE
from portal.views import AccountViewMixin


class LoginView(auth_views.LoginView):
    form_class = GuardedLoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.refusal is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.refusal.retry_after)
        return response


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
