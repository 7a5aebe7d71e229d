"""Django admin registrations of the contacts app (platform staff)."""

from contacts import (
    admin_contacts,  # noqa: F401  (registers contacts, tags, groups, segments)
    admin_unsubscribers,  # noqa: F401  (registers opt-out models)
)
