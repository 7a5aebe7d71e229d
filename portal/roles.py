"""Roles of a user in an account and what each may do."""

from django.db import models


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MARKETER = "marketer", "Marketer"
    COMPLIANCE = "compliance", "Compliance"
    VIEWER = "viewer", "Viewer"


READ = "read"
WRITE = "write"
REVIEW = "review"
MANAGE = "manage"

CAPABILITIES: dict[str, frozenset[str]] = {
    READ: frozenset(Role.values),
    WRITE: frozenset({Role.ADMIN, Role.MARKETER}),
    REVIEW: frozenset({Role.ADMIN, Role.COMPLIANCE}),
    MANAGE: frozenset({Role.ADMIN}),
}


def has_capability(role: str | None, capability: str) -> bool:
    """True when `role` grants `capability` (read, write, review or manage)."""
    if role is None:
        return False
    try:
        return role in CAPABILITIES[capability]
    except KeyError:
        raise ValueError(f"unknown capability {capability!r}") from None
