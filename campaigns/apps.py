from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from campaigns import tasks  # noqa: F401  (registers the Celery tasks the sending core names)
        from campaigns.exports import DELIVERY_REPORT_EXPORT, MESSAGE_EXPORT
        from campaigns.link_visits import visit_event_type
        from campaigns.matching import connect_invalidation
        from campaigns.sending.events import listen_to_statuses, status_event_type
        from campaigns.services import BLOCKED_TEMPLATES_CLEANUP
        from campaigns.smpp_gateway.receipts import queue_inbound_on_save, queue_message_receipts
        from campaigns.verify import events as verify_events
        from campaigns.verify.progress import follow_messages
        from contacts.models import InboundMessage
        from portal import cleanup
        from portal.exports import registry as exports
        from portal.webhooks import registry

        registry.register(status_event_type())
        registry.register(verify_events.status_event_type())
        registry.register(visit_event_type())
        listen_to_statuses(follow_messages)
        listen_to_statuses(queue_message_receipts)
        post_save.connect(queue_inbound_on_save, sender=InboundMessage, dispatch_uid="campaigns.smpp_inbound")
        connect_invalidation()
        cleanup.register(BLOCKED_TEMPLATES_CLEANUP)
        exports.register(MESSAGE_EXPORT)
        exports.register(DELIVERY_REPORT_EXPORT)
