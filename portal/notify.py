"""In-app notifications: for one user, or for every admin of an account."""

from portal.models import Account, Membership, Notification
from portal.roles import Role


def notify(account: Account, user, text: str, *, link: str = "", level: str = "info") -> Notification | None:
    if user is None:
        return None
    return Notification.objects.create(account=account, user=user, text=text[:300], link=link, level=level)


def notify_admins(account: Account, text: str, *, link: str = "", level: str = "info") -> list[Notification]:
    """One notification for each admin of the account."""
    admins = Membership.objects.filter(account=account, role=Role.ADMIN).select_related("user").order_by("pk")
    return [notify(account, membership.user, text, link=link, level=level) for membership in admins]
