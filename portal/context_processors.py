from portal.accounts import accounts_for
from portal.navigation import menu_for


def portal(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    account = getattr(request, "account", None)
    return {
        "current_account": account,
        "current_role": getattr(request, "role", None),
        "switchable_accounts": accounts_for(user).order_by("name")[:50],
        "menu": menu_for(getattr(request, "role", None), request.path, getattr(request.user, "is_staff", False)),
        "unread_notifications": (
            user.notifications.filter(account=account, read_at__isnull=True)[:5] if account is not None else []
        ),
    }
