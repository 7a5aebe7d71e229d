"""The Celery broker as operations see it: whether it answers, and how many tasks wait in each queue."""

from django.conf import settings
from kombu import Connection

from portal.celery import app
from portal.queues import ALL_QUEUES

TIMEOUT_SECONDS = 1


def broker_connection() -> Connection:
    """A new connection to the broker CELERY_BROKER_URL names, giving up after a second."""
    return app.connection_for_write(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT_SECONDS)


def check_broker() -> dict:
    """One connection attempt, no retry (a health check must answer fast); raises when the broker is down."""
    with broker_connection() as connection:
        connection.ensure_connection(max_retries=0, timeout=TIMEOUT_SECONDS)
        return {"ok": True, "transport": connection.transport_cls}


def queue_lengths() -> dict[str, int]:
    """Tasks waiting in each queue of portal.queues, as the transport counts them: LLEN over the queue's priority
    lists on Redis, its message files on the embedded filesystem broker. Tasks a worker has already reserved are
    not counted. Declaring a queue creates nothing on either transport."""
    with broker_connection() as connection:
        channel = connection.default_channel
        return {queue: channel.queue_declare(queue=queue).message_count for queue in ALL_QUEUES}
