from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from campaigns import tasks  # noqa: F401  (registers the Celery tasks the sending core names)
        from campaigns.matching import connect_invalidation
        from campaigns.sending.events import status_event_type
        from campaigns.services import BLOCKED_TEMPLATES_CLEANUP
        from portal import cleanup
        from portal.webhooks import registry

        registry.register(status_event_type())
        connect_invalidation()
        cleanup.register(BLOCKED_TEMPLATES_CLEANUP)
