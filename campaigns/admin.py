"""Django admin registrations of the campaigns app (platform staff)."""

from campaigns import admin_routing, admin_scheduled, admin_sending, admin_templates, admin_verify  # noqa: F401
