"""The Celery queues and which task runs on which: a slow import or export never waits in front of an OTP or a DLR.

`sending` carries the outbox dispatch and delivery reports, `webhooks` the event deliveries, `imports` the contact
imports and exports, `default` everything else (campaign preparation, the beat sweeps). `bin/serve` starts one
worker per queue; `make run` starts one worker that consumes them all.
"""

SENDING = "sending"
WEBHOOKS = "webhooks"
IMPORTS = "imports"
DEFAULT = "default"
ALL_QUEUES = (SENDING, WEBHOOKS, IMPORTS, DEFAULT)

QUEUE_OF_TASK = {
    "campaigns.dispatch_outbox": SENDING,
    "campaigns.deliver_simulated_reports": SENDING,
    "campaigns.send_inbound_replies": SENDING,
    "portal.webhooks.deliver": WEBHOOKS,
    "portal.webhooks.verify": WEBHOOKS,
    "contacts.run_import": IMPORTS,
    "portal.run_export": IMPORTS,
}


def task_routes() -> dict:
    """CELERY_TASK_ROUTES: the tasks above to their queue; any other task goes to `default`."""
    return {name: {"queue": queue} for name, queue in QUEUE_OF_TASK.items()}
