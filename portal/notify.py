"""In-app notifications for one user."""

from portal.models import Account, Notification


def notify(account: Account, user, text: str, *, link: str = "", level: str = "info") -> Notification | None:
    if user is None:
        return None
    return Notification.objects.create(account=account, user=user, text=text[:300], link=link, level=level)
