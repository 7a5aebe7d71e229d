"""Which accounts a user may act in, and with which role."""

import uuid
import zoneinfo

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from portal.audit import record
from portal.models import Account, AccountStatus, AuditEvent, Membership
from portal.roles import Role

SESSION_KEY = "current_account"


def zone_of(account: Account):
    """The account's time zone (the server's when the stored name is unknown)."""
    try:
        return zoneinfo.ZoneInfo(account.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def accounts_for(user):
    """Accounts the user may switch to: their memberships, or every account for platform staff."""
    if not user.is_authenticated:
        return Account.objects.none()
    if user.is_staff:
        return Account.objects.all()
    return Account.objects.filter(memberships__user=user)


def role_in(user, account: Account) -> str | None:
    """The user's role in the account; platform staff act as admins everywhere."""
    membership = Membership.objects.filter(user=user, account=account).only("role").first()
    if membership:
        return membership.role
    return Role.ADMIN if user.is_staff else None


def resolve_session_account(request) -> tuple[Account | None, str | None]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None, None
    wanted = request.session.get(SESSION_KEY)
    candidates = accounts_for(user)
    account = candidates.filter(uid=wanted).first() if wanted else None
    if account is None:
        account = default_account_for(user)
    if account is None:
        return None, None
    return account, role_in(user, account)


def default_account_for(user) -> Account | None:
    """The account a user lands in: their oldest membership, else (staff) the first account by name."""
    membership = Membership.objects.filter(user=user).select_related("account").order_by("created_at", "pk").first()
    if membership is not None:
        return membership.account
    return accounts_for(user).order_by("name").first()


def switch_account(request, account_uid) -> Account | None:
    account = accounts_for(request.user).filter(uid=account_uid).first()
    if account is not None:
        request.session[SESSION_KEY] = str(account.uid)
    return account


@transaction.atomic
def create_account(name: str, *, slug: str | None = None, **fields) -> Account:
    base = slug or slugify(name)[:50] or "account"
    candidate, n = base, 1
    while Account.objects.filter(slug=candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    account = Account(name=name, slug=candidate, **fields)
    account.full_clean()
    account.save()
    return account


def account_by_reference(reference: str) -> Account | None:
    """The account named by its slug or its public id (uid), as operators and platform staff name it."""
    account = Account.objects.filter(slug=reference).first()
    if account is not None:
        return account
    try:
        return Account.objects.filter(uid=uuid.UUID(reference)).first()
    except ValueError:
        return None


SUSPENDED_VERB = "account.suspended"
RESUMED_VERB = "account.resumed"


def suspend_account(account: Account, *, actor=None, reason: str = "", details: dict | None = None) -> bool:
    """Make the account inactive (its API answers "Inactive account"); audited with `reason` and `details` (what
    else the suspension did). False when it was already inactive (nothing written)."""
    return _move_status(account, AccountStatus.INACTIVE, SUSPENDED_VERB, actor, {"reason": reason, **(details or {})})


def resume_account(account: Account, *, actor=None, reason: str = "", details: dict | None = None) -> bool:
    """Make a suspended account active again; audited. False when it was already active (nothing written)."""
    return _move_status(account, AccountStatus.ACTIVE, RESUMED_VERB, actor, {"reason": reason, **(details or {})})


@transaction.atomic
def _move_status(account: Account, status: str, verb: str, actor, extra: dict) -> bool:
    """Set the status when it differs (a conditional UPDATE: of two concurrent calls one moves it) and audit it."""
    before = AccountStatus.ACTIVE if status == AccountStatus.INACTIVE else AccountStatus.INACTIVE
    if not Account.objects.filter(pk=account.pk, status=before).update(status=status):
        account.refresh_from_db(fields=["status"])
        return False
    account.status = status
    record(account, actor, verb, account, before={"status": before}, after={"status": status, **extra})
    return True


def last_suspension(account: Account) -> AuditEvent | None:
    """The audit event of the account's latest suspension (its `after` says what the suspension did)."""
    return AuditEvent.objects.for_account(account).filter(verb=SUSPENDED_VERB).order_by("-at", "-id").first()


def add_member(account: Account, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(user=user, account=account, defaults={"role": role})
    return membership


class LastAdminError(Exception):
    """An account must keep at least one admin."""


def _admin_count(account: Account) -> int:
    return Membership.objects.filter(account=account, role=Role.ADMIN).count()


@transaction.atomic
def invite_member(account: Account, email: str, role: str, *, acting_user, request=None) -> Membership:
    """Add a user (created without a password when new, then e-mailed a reset link) to the account."""
    from django.contrib.auth import get_user_model

    from portal.audit import record

    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = user_model.objects.create_user(username=email.lower(), email=email.lower())
        user.set_unusable_password()
        user.save(update_fields=["password"])
    membership = add_member(account, user, role)
    record(account, acting_user, "member.added", membership, after={"email": email, "role": role})
    if created and request is not None:
        link = password_setup_link(request, user)
        transaction.on_commit(lambda: send_invitation(user.email, account.name, link))
    return membership


def password_setup_link(request, user) -> str:
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return request.build_absolute_uri(path)


def send_invitation(email: str, account_name: str, link: str) -> None:
    from django.core.mail import send_mail

    send_mail(
        f"You have been added to {account_name}",
        f"You now have access to {account_name} in the CPaaS portal.\n\nChoose your password here:\n{link}\n",
        None,
        [email],
    )


@transaction.atomic
def change_role(membership: Membership, role: str, *, acting_user) -> Membership:
    from portal.audit import record

    if membership.role == Role.ADMIN and role != Role.ADMIN and _admin_count(membership.account) == 1:
        raise LastAdminError("The account needs at least one admin.")
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    record(
        membership.account,
        acting_user,
        "member.role_changed",
        membership,
        before={"role": before},
        after={"role": role},
    )
    return membership


@transaction.atomic
def remove_member(membership: Membership, *, acting_user) -> None:
    from portal.audit import record

    if membership.role == Role.ADMIN and _admin_count(membership.account) == 1:
        raise LastAdminError("The account needs at least one admin.")
    record(membership.account, acting_user, "member.removed", membership, before={"role": membership.role})
    membership.delete()
