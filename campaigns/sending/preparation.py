"""Preparation: the one draft writer (campaigns and API sends alike) and a campaign's preparation.

Message rows are written under the unique (campaign, recipient) constraint, so a preparation restarted after a
crash adds nothing twice: COPY into a session staging table, then one INSERT … SELECT … ON CONFLICT DO NOTHING
on PostgreSQL; bulk_create elsewhere. On PostgreSQL `SMS_PREPARE_WRITERS` threads write chunks while the next
are rendered (`portal.writers.ThreadedWriter`).
"""

import copy
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from campaigns.conf import setting
from campaigns.links import Shortener, drop_unsent, renamed_body, write_short_links
from campaigns.models import Campaign, Message
from campaigns.routing import Router
from campaigns.sending.planning import Draft, PreparationCounts, campaign_spec, plan_campaign
from campaigns.sending.timing import batch_release_time, first_release
from campaigns.states import CampaignState, MessageState
from portal.ids import time_ordered_uids
from portal.writers import ThreadedWriter, can_write_on_threads

ROW_COLUMNS = (
    "uid",
    "recipient",
    "country",
    "body",
    "encoding",
    "units",
    "parts",
    "template_id",
    "variables",
    "price",
    "cost",
    "india_promotional",
    "not_before",
    "connector_id",
)
_VARIABLES = ROW_COLUMNS.index("variables")
_BODY = ROW_COLUMNS.index("body")
COPY_MIN_ROWS = 20  # fewer rows (an API send to a few numbers, a Verify code) are one plain INSERT


@dataclass
class MessageDefaults:
    """Column values shared by every message of one send (sent once per chunk, not per row)."""

    account_id: int
    campaign_id: int | None
    group_id: uuid.UUID
    sender_id: int | None
    sender_name: str
    service: str
    message_type: str
    flash: bool
    webhook_id: str = ""
    custom_id: str = ""
    destination_port: int | None = None
    meta: dict = field(default_factory=dict)
    api_token_id: int | None = None  # the API token of the send or campaign (spending caps)
    sealed_body: str = ""  # encrypted text as sent, when the stored body is masked (one-recipient secret sends)

    def columns(self, now: datetime) -> dict:
        return {
            "account_id": self.account_id,
            "created_at": now,
            "updated_at": now,
            "campaign_id": self.campaign_id,
            "group_id": self.group_id,
            "sender_id": self.sender_id,
            "sender_name": self.sender_name,
            "service": self.service,
            "message_type": self.message_type,
            "flash": self.flash,
            "destination_port": self.destination_port,
            "api_token_id": self.api_token_id,
            "sealed_body": self.sealed_body,
            "debited": False,
            "custom_id": self.custom_id,
            "meta": self.meta,
            "webhook_id": self.webhook_id,
            "connector_message_id": "",
            "state": MessageState.QUEUED,
            "error_code": "",
            "error_detail": "",
            "attempts": 0,
        }


def message_row(draft: Draft, not_before: datetime, uid: str, connector_id: int | None, body: str = "") -> tuple:
    """The per-message columns of one Message, in ROW_COLUMNS order (`body`: the draft's with its own links)."""
    encoding = draft.encoding
    return (
        uid,
        draft.recipient,
        draft.country,
        body or draft.body,
        encoding.encoding,
        encoding.units,
        encoding.parts,
        draft.template_id,
        draft.variables,
        draft.price,
        draft.cost,
        draft.india_promotional,
        not_before,
        connector_id,
    )


def draft_rows(drafts: list[Draft], release_at, router: Router, shortener: Shortener | None = None) -> list[tuple]:
    """Message rows for drafts with time-ordered ids; `release_at(index)` says when the index-th may leave, the
    router which connector carries each (`campaigns.routing`); the `shortener` gives each draft with links its
    own short URLs (their rows wait in `shortener.take()`)."""
    uids = time_ordered_uids(len(drafts))
    route = router.connector_for
    if shortener is None:
        return [
            message_row(draft, release_at(offset), uids[offset], route(draft.recipient, draft.country))
            for offset, draft in enumerate(drafts)
        ]
    issue = shortener.issue
    return [
        message_row(
            draft,
            release_at(offset),
            uids[offset],
            route(draft.recipient, draft.country),
            issue(draft.body, draft.links, uids[offset], draft.recipient) if draft.links else "",
        )
        for offset, draft in enumerate(drafts)
    ]


def row_value(row: tuple, column: str):
    return row[ROW_COLUMNS.index(column)]


def write_messages(defaults: MessageDefaults, now: datetime, rows: list[tuple], short_links: list[tuple] = ()) -> None:
    """Insert message rows, skipping (campaign, recipient) pairs that exist: COPY on PostgreSQL for more than
    COPY_MIN_ROWS rows, one bulk INSERT … ON CONFLICT DO NOTHING otherwise. `short_links` (smart links of these
    messages) are written first in the same transaction; a code drawn again changes its message's body."""
    if not rows:
        return
    if not short_links:
        _insert_messages(defaults.columns(now), rows)
        return
    with transaction.atomic():
        renamed = write_short_links(short_links)
        if renamed:
            rows = [(*row[:_BODY], renamed_body(row[_BODY], renamed), *row[_BODY + 1 :]) for row in rows]
        inserted = _insert_messages(defaults.columns(now), rows)
        if defaults.campaign_id is not None and inserted != len(rows):
            drop_unsent(short_links, renamed)


def _insert_messages(shared: dict, rows: list[tuple]) -> int | None:
    """How many rows were inserted (None when the database does not say)."""
    if connection.vendor == "postgresql" and len(rows) > COPY_MIN_ROWS:
        return _copy_messages(shared, rows)
    messages = [Message(**shared, **dict(zip(ROW_COLUMNS, row, strict=True))) for row in rows]
    Message.objects.bulk_create(messages, batch_size=500, ignore_conflicts=True)
    return None


def _copy_messages(shared: dict, rows: list[tuple]) -> int:
    """COPY the per-message columns into a session staging table, then one INSERT … SELECT adding the shared
    values, ON CONFLICT DO NOTHING (a re-run adds nothing twice)."""
    row_columns = ", ".join(ROW_COLUMNS)
    table = Message._meta.db_table
    names = list(shared)
    casts = ", ".join(f"%s::{Message._meta.get_field(name).db_type(connection)}" for name in names)
    columns = ", ".join(Message._meta.get_field(name).column for name in names)
    params = [json.dumps(value) if name == "meta" else value for name, value in shared.items()]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS message_stage ON COMMIT DELETE ROWS AS "
            f"SELECT {row_columns} FROM {table} WITH NO DATA"
        )
        cursor.execute("TRUNCATE message_stage")  # rows of an earlier chunk in the same transaction
        with cursor.cursor.copy(f"COPY message_stage ({row_columns}) FROM STDIN") as copy:
            for row in rows:
                values = list(row)
                values[_VARIABLES] = json.dumps(values[_VARIABLES])
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO {table} ({columns}, {row_columns}) "
            f"SELECT {casts}, {row_columns} FROM message_stage ON CONFLICT (campaign_id, recipient) DO NOTHING",
            params,
        )
        return cursor.rowcount


def message_writer() -> ThreadedWriter:
    """Writes chunks of message rows, on `SMS_PREPARE_WRITERS` threads where it can (`portal.writers`): the
    database work of two chunks (index entries, foreign key checks) runs on two server processes while Python
    renders the next. Chunks are independent (ON CONFLICT DO NOTHING), so their order does not matter."""
    writers = int(setting("SMS_PREPARE_WRITERS"))
    return ThreadedWriter(
        lambda chunk: write_messages(*chunk),
        threads=writers,
        backlog=2 * writers,
        threaded=can_write_on_threads(),
        name="message-writer",
    )


def campaign_defaults(campaign: Campaign) -> MessageDefaults:
    return MessageDefaults(
        account_id=campaign.account_id,
        campaign_id=campaign.pk,
        group_id=campaign.uid,
        sender_id=campaign.sender_id,
        sender_name=campaign.sender.name,
        service=campaign.sender.service,
        message_type=campaign.message_type,
        flash=campaign.flash,
        webhook_id=campaign.webhook_id,
        destination_port=campaign.destination_port,
        api_token_id=campaign.api_token_id,
    )


def prepare_campaign(campaign: Campaign) -> PreparationCounts:
    """Create the campaign's messages (idempotent) and start it; the campaign must be in `preparing`. A Smart
    Delivery campaign's messages (its test numbers among them) are written held (`timing.first_release`)."""
    now = timezone.now()
    start = first_release(max(campaign.start_at or now, now), campaign.smart_delivery)
    defaults = campaign_defaults(campaign)
    router = Router(campaign.account_id, campaign.sender.service, pinned=campaign.connector)
    planned = copy.copy(campaign)
    planned.audience = campaign.sending_audience
    spec = campaign_spec(planned)
    shortener = spec.shortener

    def write(drafts: list[Draft], first_index: int) -> None:
        def release_at(offset: int) -> datetime:
            index = first_index + offset
            return batch_release_time(start, index, campaign.batch_size, campaign.batch_interval_minutes)

        rows = draft_rows(drafts, release_at, router, shortener)
        writer.submit((defaults, now, rows, shortener.take() if shortener is not None else ()))
        Campaign.objects.filter(pk=campaign.pk).update(updated_at=timezone.now())

    with message_writer() as writer:
        counts = plan_campaign(planned, on_drafts=write, spec=spec)
    created = Message.objects.filter(campaign=campaign).count()
    estimated = Message.objects.filter(campaign=campaign).aggregate(total=Sum("cost"))["total"] or Decimal("0")
    Campaign.objects.filter(pk=campaign.pk, state=CampaignState.PREPARING).update(
        state=CampaignState.RUNNING if created else CampaignState.COMPLETED,
        state_reason="" if created else "No eligible recipients.",
        recipients_count=created,
        suppressed_count=sum(counts.suppressed.values()),
        suppressed_by_reason=dict(counts.suppressed),
        rejected_count=sum(counts.rejected.values()),
        rejected_by_reason=dict(counts.rejected),
        estimated_cost=estimated,
        started_at=timezone.now(),
        finished_at=None if created else timezone.now(),
        updated_at=timezone.now(),
    )
    return counts
