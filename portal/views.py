"""Portal pages: dashboard, account switcher, API tokens, account settings, audit log."""

from importlib import import_module

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View

from portal import htmx
from portal.accounts import LastAdminError, change_role, invite_member, remove_member, switch_account
from portal.audit import record
from portal.caps import set_caps
from portal.forms import AccountSettingsForm, MemberForm, RoleForm, TokenForm
from portal.forms_caps import SpendingCapsForm
from portal.models import Account, ApiToken, AuditEvent, Membership, Notification
from portal.roles import MANAGE, READ, Role, has_capability
from portal.tokens import issue_token, revoke_token

DASHBOARD_APPS = ["contacts", "campaigns"]


SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
SUSPENDED = "This account is suspended: its pages can be read, but nothing can be changed or sent. Contact support."


class AccountViewMixin(LoginRequiredMixin):
    """Login required, `self.account`/`self.role` set, and `required_capability` enforced (403 otherwise)."""

    required_capability = READ

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.account, self.role = request.account, request.role
        if self.account is None:
            raise PermissionDenied("You are not a member of any account yet. Ask an administrator to invite you.")
        if not has_capability(self.role, self.capability_for(request)):
            raise PermissionDenied(f"Your role ({self.role}) may not do this.")
        if not self.account.is_active and request.method not in SAFE_METHODS:
            raise PermissionDenied(SUSPENDED)
        return super().dispatch(request, *args, **kwargs)

    def capability_for(self, request) -> str:
        return self.required_capability

    def can(self, capability: str) -> bool:
        return has_capability(self.role, capability)


def dashboard_cards(account) -> list[dict]:
    """Cards contributed by apps through an optional `<app>/dashboard.py` with `cards(account)`."""
    cards = []
    for app in DASHBOARD_APPS:
        try:
            module = import_module(f"{app}.dashboard")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.dashboard":
                raise
            continue
        cards.extend(module.cards(account))
    return cards


class DashboardView(AccountViewMixin, View):
    def get(self, request):
        context = {
            "cards": dashboard_cards(self.account),
            "recent_audit": AuditEvent.objects.for_account(self.account).select_related("actor")[:8],
            "token_count": ApiToken.objects.filter(account=self.account).usable().count(),
        }
        return htmx.render(request, "portal/dashboard.html", context)


class SwitchAccountView(LoginRequiredMixin, View):
    def post(self, request):
        account = switch_account(request, request.POST.get("account", ""))
        if account is None:
            raise Http404("No such account.")
        messages.success(request, f"You are now working in {account.name}.")
        target = request.POST.get("next") or "/"
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/"
        return redirect(target)


class TokenListView(AccountViewMixin, View):
    template_name = "portal/token_list.html"

    def tokens(self):
        queryset = ApiToken.objects.filter(account=self.account).select_related("user")
        return queryset if self.role == Role.ADMIN else queryset.filter(user=self.request.user)

    def token_form(self, data=None) -> TokenForm:
        form = TokenForm(data)
        if self.role == Role.VIEWER:
            del form.fields["read_only"]
        return form

    def get(self, request):
        return htmx.render(request, self.template_name, {"form": self.token_form(), "tokens": self.tokens()})

    def post(self, request):
        form = self.token_form(request.POST)
        context = {"form": form, "tokens": self.tokens()}
        if form.is_valid():
            data = form.cleaned_data
            issued = issue_token(
                self.account,
                request.user,
                data["name"],
                read_only=data.get("read_only", False) or self.role == Role.VIEWER,
                expires_at=data["expires_at"],
                allowed_ips=data["allowed_ips"],
            )
            context.update(form=self.token_form(), issued=issued, tokens=self.tokens())
        return htmx.render(request, self.template_name, context, partial="token-panel", status=200)


class TokenRevokeView(AccountViewMixin, View):
    def post(self, request, uid):
        token = get_object_or_404(ApiToken, account=self.account, uid=uid)
        if self.role != Role.ADMIN and token.user_id != request.user.pk:
            raise Http404
        revoke_token(token, acting_user=request.user)
        messages.success(request, f"Token “{token.name}” revoked. Clients using it now get 401.")
        return redirect("portal:token_list")


class AccountSettingsView(AccountViewMixin, View):
    """Account settings and spending caps: everyone reads them, admins change them (two forms, `section`)."""

    template_name = "portal/account_settings.html"

    def capability_for(self, request) -> str:
        return READ if request.method == "GET" else MANAGE

    def render_page(self, request, form=None, caps_form=None, status=200):
        context = {
            "form": form or AccountSettingsForm(instance=self.account),
            "caps_form": caps_form or SpendingCapsForm(instance=self.account),
            "can_edit": self.can(MANAGE),
        }
        return htmx.render(request, self.template_name, context, status=status)

    def get(self, request):
        return self.render_page(request)

    def post(self, request):
        if request.POST.get("section") == "caps":
            return self.post_caps(request)
        before = {field: str(getattr(self.account, field)) for field in AccountSettingsForm.Meta.fields}
        form = AccountSettingsForm(request.POST, instance=self.account)
        if form.is_valid():
            account = form.save(commit=False)
            # only the form's columns: a whole-row save would write back the balance and caps read at the start
            account.save(update_fields=AccountSettingsForm.Meta.fields)
            after = {field: str(getattr(account, field)) for field in AccountSettingsForm.Meta.fields}
            record(account, request.user, "account.updated", account, before=before, after=after)
            messages.success(request, "Settings saved.")
            return redirect("portal:account_settings")
        return self.render_page(request, form=form, status=422)

    def post_caps(self, request):
        account = Account.objects.get(pk=self.account.pk)
        caps_form = SpendingCapsForm(request.POST, instance=Account.objects.get(pk=account.pk))
        if not caps_form.is_valid():
            return self.render_page(request, caps_form=caps_form, status=422)
        changed = set_caps(account, caps_form.cleaned_data, actor=request.user)
        messages.success(request, "Spending caps saved." if changed else "Spending caps unchanged.")
        return redirect("portal:account_settings")


class MemberListView(AccountViewMixin, View):
    """Settings → Members: who works in this account and with which role (admins change it)."""

    template_name = "portal/member_list.html"

    def capability_for(self, request) -> str:
        return READ if request.method == "GET" else MANAGE

    def members(self):
        return Membership.objects.filter(account=self.account).select_related("user").order_by("user__email")

    def render_page(self, request, form, status=200):
        context = {"members": self.members(), "form": form, "can_edit": self.can(MANAGE), "roles": Role.choices}
        return htmx.render(request, self.template_name, context, status=status)

    def get(self, request):
        return self.render_page(request, MemberForm())

    def post(self, request):
        form = MemberForm(request.POST)
        if not form.is_valid():
            return self.render_page(request, form, status=422)
        email = form.cleaned_data["email"]
        if self.members().filter(user__email__iexact=email).exists():
            form.add_error("email", f"{email} is already a member of this account.")
            return self.render_page(request, form, status=422)
        invite_member(self.account, email, form.cleaned_data["role"], acting_user=request.user, request=request)
        messages.success(request, f"{email} added as {form.cleaned_data['role']}.")
        return redirect("portal:member_list")


class MemberUpdateView(AccountViewMixin, View):
    required_capability = MANAGE

    def post(self, request, pk):
        membership = get_object_or_404(Membership, pk=pk, account=self.account)
        try:
            if request.POST.get("action") == "remove":
                remove_member(membership, acting_user=request.user)
                messages.success(request, f"{membership.user.email} removed from {self.account.name}.")
            else:
                form = RoleForm(request.POST)
                if not form.is_valid():
                    messages.error(request, "Choose one of the listed roles.")
                    return redirect("portal:member_list")
                change_role(membership, form.cleaned_data["role"], acting_user=request.user)
                messages.success(request, f"{membership.user.email} is now {membership.role}.")
        except LastAdminError as exc:
            messages.error(request, str(exc))
        return redirect("portal:member_list")


class AuditListView(AccountViewMixin, View):
    def get(self, request):
        events = AuditEvent.objects.for_account(self.account).select_related("actor")
        verb = request.GET.get("verb", "").strip()
        if verb:
            events = events.filter(verb__startswith=verb)
        return htmx.render(
            request, "portal/audit_list.html", {"events": events[:200], "verb": verb}, partial="audit-rows"
        )


class NotificationReadView(AccountViewMixin, View):
    def post(self, request, pk):
        notification = get_object_or_404(Notification, pk=pk, user=request.user, account=self.account)
        Notification.objects.filter(pk=notification.pk).update(read_at=timezone.now())
        return redirect(notification.link or "portal:dashboard")
