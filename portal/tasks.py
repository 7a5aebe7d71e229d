from celery import shared_task


@shared_task(name="portal.ping")
def ping(value: str = "pong") -> str:
    """Round-trip check used by health tests: returns what it was given."""
    return value
