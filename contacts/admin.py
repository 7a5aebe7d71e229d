"""Django admin registrations of the contacts app (platform staff)."""
