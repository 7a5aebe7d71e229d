"""Demo data of the portal itself: a read-only API token for the demo admin."""

from portal.models import ApiToken
from portal.tokens import issue_token


def load(account, user) -> None:
    if not ApiToken.objects.filter(account=account, name="Demo dashboard (read-only)").exists():
        issue_token(account, user, "Demo dashboard (read-only)", read_only=True)
