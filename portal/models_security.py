"""Login lock-outs: failed passwords of a user in the current window and the lock-out they led to.

`portal.brute_force` writes them; a lock-out ends by itself at `locked_until`, on a password reset or an unlock.
"""

from django.conf import settings
from django.db import models

__all__ = ["LoginLockout"]


class LoginLockoutQuerySet(models.QuerySet):
    def locked(self, now):
        """Rows whose lock-out is still running at `now`."""
        return self.filter(locked_until__gt=now)


class LoginLockout(models.Model):
    """One user's failed passwords (at most one row per user); `locked_until` is set once they reach the limit."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_lockout")
    failures = models.PositiveIntegerField(default=0, help_text="Failed passwords in the current window.")
    window_started_at = models.DateTimeField(null=True, blank=True, help_text="First failure of the current window.")
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_address = models.CharField(max_length=64, blank=True, help_text="Client address of the last failure.")
    locked_until = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="Logins are refused until then; empty: not locked."
    )

    objects = LoginLockoutQuerySet.as_manager()

    class Meta:
        ordering = ["-last_failure_at", "-id"]
        verbose_name = "login lock-out"

    def __str__(self) -> str:
        return f"{self.user} ({self.failures} failed)"

    def is_locked(self, now) -> bool:
        return self.locked_until is not None and self.locked_until > now
