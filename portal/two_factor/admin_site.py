"""The portal's Django admin site (the default site, see portal.two_factor.apps): its login form is the portal's
login view with the admin's form and page, so the brute-force guard and the two-factor code step apply there too;
with OTP_REQUIRED_FOR_STAFF a staff session must also be verified by a second factor."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from portal.forms_auth import GuardedAdminLoginForm
from portal.two_factor.middleware import lacks_required_second_factor
from portal.views_auth import LoginView


class PortalAdminSite(admin.AdminSite):
    login_form = GuardedAdminLoginForm

    def has_permission(self, request):
        return super().has_permission(request) and not lacks_required_second_factor(request)

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        """Django's AdminSite.login, with the portal's LoginView in place of Django's."""
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(reverse("admin:index", current_app=self.name))
        context = {
            **self.each_context(request),
            "title": _("Log in"),
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
        }
        if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=self.name)
        context.update(extra_context or {})
        request.current_app = self.name
        view = LoginView.as_view(
            authentication_form=self.login_form,
            template_name=self.login_template or "admin/login.html",
            extra_context=context,
            redirect_authenticated_user=False,
        )
        return view(request)
