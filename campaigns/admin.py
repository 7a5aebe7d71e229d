"""Django admin registrations of the campaigns app (platform staff)."""

from campaigns import (  # noqa: F401
    admin_links,
    admin_routing,
    admin_scheduled,
    admin_sending,
    admin_smpp,
    admin_templates,
    admin_verify,
)
