"""Django admin registrations of the contacts app (platform staff)."""

from contacts import (
    admin_contacts,  # noqa: F401  (registers contacts, tags, groups, segments)
    admin_imports,  # noqa: F401  (registers imports and their row errors)
    admin_numbers,  # noqa: F401  (registers inbound numbers and keyword routes)
    admin_unsubscribers,  # noqa: F401  (registers opt-out models)
)
