"""Which accounts a user may act in, and with which role."""

from django.db import transaction
from django.utils.text import slugify

from portal.models import Account, Membership
from portal.roles import Role

SESSION_KEY = "current_account"


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
        account = candidates.order_by("name").first()
    if account is None:
        return None, None
    return account, role_in(user, account)


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


def add_member(account: Account, user, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(user=user, account=account, defaults={"role": role})
    return membership
