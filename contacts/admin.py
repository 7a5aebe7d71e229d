"""Django admin registrations of the contacts app (platform staff)."""

from contacts import admin_unsubscribers  # noqa: F401  (registers opt-out models)
