import json
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Min, Q
from django.utils import timezone

from campaigns.models import Connector, Message
from campaigns.ops import queue_conditions
from campaigns.states import FINAL_MESSAGE_STATES, MessageState
from portal.accounts import account_by_reference
from portal.models import Account, Webhook, WebhookDelivery, awaiting_handshake

QUEUED, SENT, UNKNOWN = MessageState.QUEUED, MessageState.SENT, MessageState.UNKNOWN
FINAL_STATES = [state for state in MessageState.values if state in FINAL_MESSAGE_STATES]  # in their listed order
PENDING = WebhookDelivery.State.PENDING
UNROUTED = "(no connector yet)"


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    return round(max((now - moment).total_seconds(), 0.0), 1) if moment else None


def message_figures(messages, now: datetime, hours: int) -> dict:
    conditions = queue_conditions(now)
    queued = messages.filter(state=QUEUED).aggregate(
        **{name: Count("id", filter=condition) for name, condition in conditions.items()},
        oldest_due=Min("not_before", filter=conditions["due"]),
    )
    oldest_due = queued.pop("oldest_due")
    waiting = messages.filter(state__in=[SENT, UNKNOWN]).aggregate(
        sent=Count("id", filter=Q(state=SENT)),
        unknown=Count("id", filter=Q(state=UNKNOWN)),
        oldest_sent=Min("sent_at"),
    )
    recent = dict(
        messages.filter(state__in=FINAL_STATES, created_at__gte=now - timedelta(hours=hours))
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
    )
    return {
        "queued": queued,
        "oldest_due_seconds": _seconds_since(oldest_due, now),
        "awaiting_report": {"sent": waiting["sent"], "unknown": waiting["unknown"]},
        "oldest_awaiting_report_seconds": _seconds_since(waiting["oldest_sent"], now),
        "final_recent": {state: recent.get(state, 0) for state in FINAL_STATES},
    }


def connector_figures(messages, now: datetime) -> list[dict]:
    """The open messages (queued, or sent and waiting for their report) per connector."""
    conditions = queue_conditions(now)
    rows = (
        messages.filter(state__in=[QUEUED, SENT, UNKNOWN])
        .order_by()
        .values("connector_id")
        .annotate(
            due=Count("id", filter=Q(state=QUEUED) & conditions["due"]),
            claimed=Count("id", filter=Q(state=QUEUED) & conditions["claimed"]),
            lease_expired=Count("id", filter=Q(state=QUEUED) & conditions["lease_expired"]),
            awaiting_report=Count("id", filter=Q(state__in=[SENT, UNKNOWN])),
        )
    )
    connectors = Connector.objects.in_bulk([row["connector_id"] for row in rows if row["connector_id"]])
    figures = []
    for row in rows:
        connector = connectors.get(row.pop("connector_id"))
        name, kind = (connector.name, connector.kind) if connector else (UNROUTED, "")
        figures.append({"connector": name, "kind": kind, **row})
    return sorted(figures, key=lambda row: row["connector"])


def webhook_figures(account: Account | None, now: datetime, hours: int) -> dict:
    deliveries = WebhookDelivery.objects.for_account(account) if account else WebhookDelivery.objects.all()
    webhooks = Webhook.objects.for_account(account) if account else Webhook.objects.all()
    held = awaiting_handshake("webhook__")
    pending = deliveries.filter(state=PENDING).aggregate(
        due=Count("id", filter=Q(next_attempt_at__lte=now) & ~held),
        retry_later=Count("id", filter=Q(next_attempt_at__gt=now) & ~held),
        held_for_handshake=Count("id", filter=held),
        oldest_due=Min("next_attempt_at", filter=Q(next_attempt_at__lte=now) & ~held),
    )
    oldest_due = pending.pop("oldest_due")
    recent = deliveries.filter(created_at__gte=now - timedelta(hours=hours)).aggregate(
        succeeded=Count("id", filter=Q(state=WebhookDelivery.State.SUCCEEDED)),
        failed=Count("id", filter=Q(state=WebhookDelivery.State.FAILED)),
    )
    return {
        "pending": pending,
        "oldest_due_seconds": _seconds_since(oldest_due, now),
        "failed_total": deliveries.filter(state=WebhookDelivery.State.FAILED).count(),
        "finished_recent": recent,
        "expired_queue_leases": webhooks.exclude(lease_token="").filter(lease_until__lt=now).count(),
        "switched_off_webhooks": webhooks.filter(status=Webhook.Status.INACTIVE).count(),
    }


def outbox_status(account: Account | None = None, *, hours: int = 24, now: datetime | None = None) -> dict:
    """Figures of the outbox and of the webhook deliveries, of one account or of all. Queued and open figures
    are counts now; `*_recent` ones count the rows created in the last `hours`."""
    now = now or timezone.now()
    messages = Message.objects.for_account(account) if account else Message.objects.all()
    return {
        "at": now.isoformat(),
        "account": account.slug if account else None,
        "recent_hours": hours,
        "messages": message_figures(messages, now, hours),
        "connectors": connector_figures(messages, now),
        "webhooks": webhook_figures(account, now, hours),
    }


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {rest:02d}s" if hours else f"{minutes}m {rest:02d}s"


class Command(BaseCommand):
    help = (
        "Show the outbox by state (due, held by a paused campaign, scheduled, claimed under a live lease, lease "
        "expired, sent and waiting for a delivery report), the oldest due message's wait, the open messages per "
        "connector and the webhook deliveries by state. --json prints the same figures for scripts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", metavar="SLUG", help="Only this account (slug or public id).")
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print JSON instead of tables.")
        parser.add_argument("--hours", type=int, default=24, help="Window of the 'recent' figures (default 24).")

    def handle(self, account, as_json, hours, **options):
        target = None
        if account is not None:
            target = account_by_reference(account)
            if target is None:
                raise CommandError(f"No account with slug or id {account!r}.")
        if hours <= 0:
            raise CommandError("--hours must be a positive number of hours.")
        figures = outbox_status(target, hours=hours)
        if as_json:
            self.stdout.write(json.dumps(figures, indent=2))
        else:
            self.write_tables(figures)

    def write_tables(self, figures: dict) -> None:
        messages, webhooks, hours = figures["messages"], figures["webhooks"], figures["recent_hours"]
        self.stdout.write(f"Outbox at {figures['at']} ({figures['account'] or 'all accounts'})")
        self.table(
            ["messages", "count"],
            [
                *[(f"queued: {name.replace('_', ' ')}", n) for name, n in messages["queued"].items()],
                ("oldest due waits", age(messages["oldest_due_seconds"])),
                *[(f"{name}, waiting for a report", n) for name, n in messages["awaiting_report"].items()],
                ("oldest waiting for a report", age(messages["oldest_awaiting_report_seconds"])),
                *[(f"{state} (created in {hours}h)", n) for state, n in messages["final_recent"].items()],
            ],
        )
        columns = ["connector", "kind", "due", "claimed", "lease_expired", "awaiting_report"]
        self.table(columns, [[row[column] for column in columns] for row in figures["connectors"]])
        self.table(
            ["webhook deliveries", "count"],
            [
                *[(f"pending: {name.replace('_', ' ')}", n) for name, n in webhooks["pending"].items()],
                ("oldest due waits", age(webhooks["oldest_due_seconds"])),
                ("failed (all kept)", webhooks["failed_total"]),
                *[(f"{state} (created in {hours}h)", n) for state, n in webhooks["finished_recent"].items()],
                ("queue leases expired", webhooks["expired_queue_leases"]),
                ("webhooks switched off", webhooks["switched_off_webhooks"]),
            ],
        )

    def table(self, header: list[str], rows: list) -> None:
        cells = [list(map(str, header)), *[list(map(str, row)) for row in rows]]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        self.stdout.write("")
        for index, row in enumerate(cells):
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
        if not rows:
            self.stdout.write("(none)")
