from django.apps import AppConfig


class ContactsConfig(AppConfig):
    name = "contacts"

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from contacts import tasks  # noqa: F401  (registers the Celery tasks the import services name)
        from contacts.exporting import CONTACT_EXPORT, INBOUND_EXPORT
        from contacts.inbound_events import inbound_event_type
        from contacts.links import lock_account_rows
        from contacts.services_unsubscribers import OPT_OUT_CLEANUP
        from portal import cleanup
        from portal.exports import registry as exports
        from portal.models import Account
        from portal.webhooks import registry

        pre_delete.connect(lock_account_rows, sender=Account, dispatch_uid="contacts.lock_account_rows")
        cleanup.register(OPT_OUT_CLEANUP)
        registry.register(inbound_event_type())
        exports.register(CONTACT_EXPORT)
        exports.register(INBOUND_EXPORT)
