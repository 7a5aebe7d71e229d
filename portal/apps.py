from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        from portal import (
            checks,  # noqa: F401  (registers the production checks)
            session_expiry,  # noqa: F401  (starts a session's clocks at login)
        )
        from portal.api import schema  # noqa: F401  (registers the OpenAPI auth extensions)
        from portal.exports import tasks  # noqa: F401  (registers the export tasks the services name)
