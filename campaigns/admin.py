"""Django admin registrations of the campaigns app (platform staff)."""
