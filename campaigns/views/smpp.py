"""Developers → SMPP: the account's SMPP credentials (create, edit, rotate the password, deactivate, delete), where
to connect, the sessions bound now and the recent refused binds.

Everyone in the account reads the page; only admins change credentials (as with webhooks). A new password is
shown once, in the answer of the create or rotation that made it; it is never stored in clear.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.http.request import split_domain_port
from django.shortcuts import get_object_or_404, redirect
from django.views import View

from campaigns.forms_smpp import NewSmppCredentialForm, SmppCredentialForm
from campaigns.models import SmppBindFailure, SmppCredential
from campaigns.smpp_gateway import credentials, statuses
from campaigns.smpp_gateway.conf import setting
from campaigns.smpp_gateway.sweeps import live_sessions, with_sessions_bound
from campaigns.views.common import apply_errors
from portal import htmx
from portal.roles import MANAGE, READ
from portal.views import AccountViewMixin

PAGE = "campaigns/smpp.html"
RECENT_FAILURES = 20
SYSTEM_TYPE = "smpp"
INTERFACE_VERSION = "0x34"


def connection_details(request) -> dict:
    """Where and how an ESME binds: the public host (`SMPP_PUBLIC_HOST`, else this page's host), the ports."""
    host = setting("SMPP_PUBLIC_HOST") or split_domain_port(request.get_host())[0]
    return {
        "host": host,
        "port": setting("SMPP_PORT"),
        "tls_port": setting("SMPP_TLS_PORT") or None,
        "system_type": SYSTEM_TYPE,
        "interface_version": INTERFACE_VERSION,
        "idle_seconds": setting("SMPP_IDLE_SECONDS"),
    }


class SmppAccessMixin(AccountViewMixin):
    """Everyone in the account reads; only admins change credentials."""

    def capability_for(self, request) -> str:
        return READ if request.method == "GET" else MANAGE

    def get_credential(self, uid) -> SmppCredential:
        return get_object_or_404(SmppCredential.objects.for_account(self.account), uid=uid)

    def page_context(self, **extra) -> dict:
        context = {
            "credentials": with_sessions_bound(SmppCredential.objects.for_account(self.account)),
            "sessions": live_sessions().filter(account=self.account).select_related("credential"),
            "failures": SmppBindFailure.objects.filter(account=self.account)[:RECENT_FAILURES],
            "connection": connection_details(self.request),
            "can_manage": self.can(MANAGE),
            "form": NewSmppCredentialForm(),
            "statuses": statuses.TABLE,
        }
        return context | extra

    def render_issued(self, issued: credentials.IssuedCredential, note: str):
        """The page with a password shown this once (an HTMX request gets the credentials panel only)."""
        context = self.page_context(issued=issued, issued_note=note)
        return htmx.render(self.request, PAGE, context, partial="smpp-panel")


class SmppPageView(SmppAccessMixin, View):
    """The page; its live part (sessions, failures) polls `?part=live`. A POST issues a credential."""

    def get(self, request):
        partial = "smpp-live" if request.GET.get("part") == "live" else None
        return htmx.render(request, PAGE, self.page_context(), partial=partial)

    def post(self, request):
        form = NewSmppCredentialForm(request.POST)
        if form.is_valid():
            try:
                issued = credentials.issue_credential(
                    self.account, acting_user=request.user, system_id=form.cleaned_data["system_id"], **form.changes
                )
            except ValidationError as error:
                apply_errors(form, error)
            else:
                return self.render_issued(issued, f"SMPP credential “{issued.credential.system_id}” created.")
        return htmx.render(request, PAGE, self.page_context(form=form), partial="smpp-panel", status=422)


class SmppCredentialEditView(SmppAccessMixin, View):
    template_name = "campaigns/smpp_form.html"

    def capability_for(self, request) -> str:
        return MANAGE

    def get(self, request, uid):
        credential = self.get_credential(uid)
        context = {"credential": credential, "form": SmppCredentialForm.for_credential(credential)}
        return htmx.render(request, self.template_name, context)

    def post(self, request, uid):
        credential = self.get_credential(uid)
        form = SmppCredentialForm.for_credential(credential, request.POST)
        if form.is_valid():
            try:
                credentials.update_credential(credential, form.changes, acting_user=request.user)
            except ValidationError as error:
                apply_errors(form, error)
            else:
                messages.success(request, f"SMPP credential “{credential.system_id}” saved.")
                return redirect("campaigns:smpp")
        context = {"credential": credential, "form": form}
        return htmx.render(request, self.template_name, context, status=422)


class SmppCredentialActionView(SmppAccessMixin, View):
    """POST rotate (a new password, shown once), deactivate, activate or delete."""

    ACTIVE_AFTER = {"deactivate": False, "activate": True}

    def post(self, request, uid, action):
        credential = self.get_credential(uid)
        if action == "rotate":
            issued = credentials.rotate_password(credential, acting_user=request.user)
            note = f"New password of “{credential.system_id}”: the old one no longer binds."
            return self.render_issued(issued, note)
        if action in self.ACTIVE_AFTER:
            credentials.update_credential(
                credential, {"is_active": self.ACTIVE_AFTER[action]}, acting_user=request.user
            )
            state = "active" if credential.is_active else "inactive: it no longer binds"
            messages.success(request, f"SMPP credential “{credential.system_id}” is {state}.")
        elif action == "delete":
            credentials.delete_credential(credential, acting_user=request.user)
            messages.success(request, f"SMPP credential “{credential.system_id}” deleted: it no longer binds.")
        else:
            raise Http404("No such action.")
        return redirect("campaigns:smpp")
