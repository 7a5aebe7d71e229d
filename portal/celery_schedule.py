"""Periodic work run by celery beat (loaded into django-celery-beat's database scheduler at start)."""

BEAT_SCHEDULE: dict[str, dict] = {
    # campaigns: due campaigns, the sending outbox (reports, completion, dispatch fan-out), expired claims
    "campaigns-due": {"task": "campaigns.sweep_due_campaigns", "schedule": 15.0},
    "campaigns-outbox": {"task": "campaigns.sweep_outbox", "schedule": 5.0},
    "campaigns-leases": {"task": "campaigns.release_expired_leases", "schedule": 30.0},
    "campaigns-inbound-replies": {"task": "campaigns.send_inbound_replies", "schedule": 5.0},
    # Smart Delivery: test batches of prepared campaigns picked, judged M minutes after they left
    "campaigns-smart-delivery": {"task": "campaigns.smart_delivery_sweep", "schedule": 10.0},
    # SMPP: submits whose answer was lost with the connection and that no receipt settled are expired
    "campaigns-unknown-submits": {"task": "campaigns.expire_unknown_submits", "schedule": 600.0},
    # routing: messages of an SMPP connector that has been down for a minute fail over to the next connector
    "campaigns-reroute": {"task": "campaigns.reroute_stranded", "schedule": 30.0},
    # verify: expiry and failover of undelivered codes to the next channel; conversion alarms (SMS pumping)
    "verify-sweep": {"task": "campaigns.verify_sweep", "schedule": 5.0},
    "verify-conversion": {"task": "campaigns.verify_conversion_alarms", "schedule": 300.0},
    # webhooks: start the delivery queues whose oldest pending delivery is due (retries, expired leases)
    "webhooks-sweep": {"task": "portal.webhooks.sweep", "schedule": 5.0},
    # webhooks: events whose emitter was killed between their commit and their fan-out get their deliveries
    "webhooks-fan-out-missed": {"task": "portal.webhooks.fan_out_missed", "schedule": 60.0},
    "webhooks-prune": {"task": "portal.webhooks.prune", "schedule": 3600.0},
    # SMPP gateway: receipts nobody collected within SMPP_RECEIPT_TTL_SECONDS expire; sessions of killed servers
    # (untouched for SMPP_SESSION_STALE_SECONDS) are removed; old receipts and refused binds are deleted
    "smpp-expire-receipts": {"task": "campaigns.smpp_expire_receipts", "schedule": 60.0},
    "smpp-drop-stale-sessions": {"task": "campaigns.smpp_drop_stale_sessions", "schedule": 60.0},
    "smpp-prune": {"task": "campaigns.smpp_prune", "schedule": 3600.0},
    # clean-ups ("delete all" of opt-outs, blocked templates): batches past their 30 days are purged
    "cleanup-purge": {"task": "portal.purge_cleanup_batches", "schedule": 3600.0},
    # exports: files past EXPORT_KEEP_DAYS are deleted; exports whose worker stopped are marked failed
    "exports-purge": {"task": "portal.purge_exports", "schedule": 3600.0},
    # contacts: imports whose worker died (row untouched for IMPORT_STALL_SECONDS) are queued again, and failed
    # after IMPORT_MAX_ATTEMPTS runs (the entry keeps its name so the scheduler's stored row is updated in place)
    "imports-stale": {"task": "contacts.requeue_stalled_imports", "schedule": 60.0},
    # operations: the heartbeat /readyz checks (beat -> a `default` worker -> a row); a beat nobody took in time
    # is dropped rather than piling up while the workers are down
    "ops-heartbeat": {"task": "portal.ops.heartbeat", "schedule": 15.0, "options": {"expire_seconds": 15}},
}
