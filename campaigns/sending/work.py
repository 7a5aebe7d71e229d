"""Background work the sending core asks for, by task name, after the transaction commits.

The tasks (`campaigns.tasks`) call into this package; this package names them instead of importing them, so
the two never import each other. `campaigns.apps` imports the tasks module at start-up, which registers them.
"""

from celery import current_app
from django.db import transaction


def enqueue_after_commit(task_name: str, *args) -> None:
    """Run the Celery task `task_name` with `args` once the current transaction commits."""
    transaction.on_commit(lambda: current_app.signature(task_name, args=args).delay())


def start_campaign_soon(campaign_id: int) -> None:
    enqueue_after_commit("campaigns.start_campaign", campaign_id)


def dispatch_soon() -> None:
    enqueue_after_commit("campaigns.dispatch_outbox")
