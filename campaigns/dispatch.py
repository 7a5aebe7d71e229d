"""From an audience to messages to the connector and back: planning, preparation, the outbox, delivery reports.

- `plan_message` (pure): one recipient → a `Draft` (text, encoding, parts, price) or a `Rejection` with a reason.
- `prepare_campaign`: resolve the audience, de-duplicate, drop opt-outs (counted by reason), plan, and write the
  Message rows in bulk under the unique (campaign, recipient) constraint, so a re-run after a crash adds nothing
  twice.
- The outbox: `claim_batch` takes due messages (SKIP LOCKED on PostgreSQL, a conditional UPDATE everywhere) with a
  lease and debits their cost in the same transaction, never below zero; `send_claimed` hands them to the
  connector with the message id as idempotency key; `record_results` moves the state forward. A crashed worker's
  claims become claimable again when the lease expires; the `debited` flag keeps a message from being charged
  twice.
- `apply_delivery_report`: moves a message forward only (queued → sent → final), idempotent; every report is kept.
"""

import logging
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from campaigns import dlr_codes
from campaigns.conf import setting
from campaigns.connectors import Outcome, connector_for
from campaigns.encoding import GSM7, UCS2, UCS2_MULTI_PART, UCS2_SINGLE_PART, SmsEncoding, analyze, to_gsm_lossy
from campaigns.models import (
    BalanceTransaction,
    BalanceTransactionKind,
    Campaign,
    Connector,
    DeliveryReport,
    Message,
    TemplateType,
)
from campaigns.pricing import country_of, price_list
from campaigns.rendering import (
    CompiledBody,
    compile_body,
    fields_needed,
    value_sources,
    values_for,
    values_from_row,
)
from campaigns.states import CampaignState, MessageState, MessageType, states_before
from campaigns.template_rules import variable_max_length
from portal.events import EventItem, emit_many
from portal.ids import time_ordered_uids
from portal.models import Account
from portal.writers import ThreadedWriter, can_write_on_threads

logger = logging.getLogger("campaigns.dispatch")

PROMOTIONAL_TYPES = frozenset({TemplateType.PROMOTIONAL, TemplateType.SERVICE_EXPLICIT})
PROMOTIONAL_SERVICES = frozenset({"MKT"})
INDIA_TIME = ZoneInfo("Asia/Kolkata")
OPT_OUT_CONFIRMATION = "_opt_out_confirmation"  # Message.meta mark of a reply confirming an opt-out
INSUFFICIENT_FUNDS = "6 Insufficient funds: the account balance is too low to send the remaining messages."


# --------------------------------------------------------------------------------------------------- planning


class Reason:
    """Why a recipient gets no message (stable codes; the DLR code where the seed has one)."""

    INVALID_NUMBER = "invalid_number"
    NO_TEMPLATE_MATCH = "no_template_match"
    VARIABLE_TOO_LONG = "variable_too_long"
    VARIABLE_EMPTY = "variable_empty"
    TOO_MANY_PARTS = "too_many_parts"
    NO_PRICE = "country_not_allowed"
    DUPLICATE = "duplicate"

    DESCRIPTIONS = {
        INVALID_NUMBER: "Invalid number",
        NO_TEMPLATE_MATCH: "452 TEMPLATE-NOT-FOUND: the text matches no approved template of the sender",
        VARIABLE_TOO_LONG: "783 DLT-TM-VAR-EXECEED: a variable value is longer than allowed",
        VARIABLE_EMPTY: "A template variable would be empty (no value and no default)",
        TOO_MANY_PARTS: "The message needs more parts than max_units allows",
        NO_PRICE: "459 NOTALLOWED: no price for the destination country",
        DUPLICATE: "Duplicate number in this send",
    }
    CODES = {NO_TEMPLATE_MATCH: "452", VARIABLE_TOO_LONG: "783", NO_PRICE: "459"}

    @classmethod
    def label(cls, reason: str) -> str:
        """The human text of a reason code (the code itself when unknown)."""
        return cls.DESCRIPTIONS.get(reason, reason)

    @classmethod
    def labelled(cls, counts: dict[str, int]) -> dict[str, int]:
        """Counts by reason code → counts by human text (the wizard's review and the campaign page)."""
        return {cls.label(reason): count for reason, count in counts.items()}


@dataclass(frozen=True)
class Draft:
    recipient: str
    country: str
    body: str
    encoding: SmsEncoding
    variables: dict
    price: Decimal
    cost: Decimal
    template_id: int | None
    india_promotional: bool


@dataclass(frozen=True)
class Rejection:
    recipient: str
    reason: str
    detail: str = ""


@dataclass
class SendSpec:
    """Everything fixed for one send: who sends what, at which prices, with which checks."""

    account: Account
    sender: object
    service: str
    compiled: CompiledBody
    template: object | None
    message_type: str
    max_units: int | None
    mapping: dict
    tags: tuple[str, ...]
    prices: dict[str, Decimal]
    match_required: bool
    promotional: bool
    variable_limit: int
    match_cache: dict = field(default_factory=dict)

    def __post_init__(self):
        self.sources = value_sources(self.compiled.variables, self.mapping)


def build_spec(
    account: Account,
    *,
    sender,
    body: str,
    template=None,
    message_type: str = MessageType.AUTO,
    max_units: int | None = None,
    mapping: dict | None = None,
    tags: Iterable[str] = (),
    service: str | None = None,
) -> SendSpec:
    service = service or sender.service
    if template is not None:
        promotional = template.template_type in PROMOTIONAL_TYPES
    else:
        promotional = service in PROMOTIONAL_SERVICES
    return SendSpec(
        account=account,
        sender=sender,
        service=service,
        compiled=compile_body(body),
        template=template,
        message_type=message_type or MessageType.AUTO,
        max_units=max_units,
        mapping=mapping or {},
        tags=tuple(tags),
        prices=price_list(account, service),
        match_required=template is None and sender.country_code in setting("SMS_TEMPLATE_MATCH_COUNTRIES"),
        promotional=promotional,
        variable_limit=variable_max_length(),
    )


@lru_cache(maxsize=50_000)
def encode(text: str, message_type: str) -> tuple[str, SmsEncoding]:
    """The text as sent and its encoding for send type N (GSM, lossy), U (always UCS-2) or A (auto)."""
    if message_type == MessageType.NORMAL:
        text = to_gsm_lossy(text)
    result = analyze(text)
    if message_type == MessageType.UNICODE and result.encoding == GSM7:
        units = len(text)
        per_part = UCS2_SINGLE_PART if units <= UCS2_SINGLE_PART else UCS2_MULTI_PART
        result = SmsEncoding(UCS2, len(text), units, -(-units // per_part) if units else 0, per_part)
    return text, result


def _match(spec: SendSpec, text: str):
    if text not in spec.match_cache:
        from campaigns.matching import match_message

        spec.match_cache[text] = match_message(spec.account, spec.sender, text)
    return spec.match_cache[text]


def check_values(recipient: str, values: dict[str, str], limit: int) -> Rejection | None:
    """A message whose variable value is empty, or longer than `limit` (DLT 783), is refused: the rendered text
    would not match its approved template (each variable holds 1 to `limit` characters)."""
    for name, value in values.items():
        if not value.strip():
            return Rejection(recipient, Reason.VARIABLE_EMPTY, f"{{{{{name}}}}} is empty")
        if len(value) > limit:
            return Rejection(recipient, Reason.VARIABLE_TOO_LONG, f"{name} over {limit}")
    return None


def plan_message(spec: SendSpec, recipient: str, contact=None, values: dict | None = None) -> Draft | Rejection:
    """One recipient's message, or why there is none. `contact` is a Contact or a dict of its values."""
    if isinstance(contact, dict):
        values = values_from_row(contact, spec.sources)
    elif values is None:
        values = values_for(contact, spec.compiled.variables, spec.mapping)
    else:
        values = {name: str(values.get(name, "")) for name in spec.compiled.variables}
    refusal = check_values(recipient, values, spec.variable_limit)
    if refusal is not None:
        return refusal
    text = spec.compiled.render(values)
    template_id = spec.template.pk if spec.template is not None else None
    promotional = spec.promotional
    if spec.match_required:
        match = _match(spec, text)
        if getattr(match, "template", None) is None:
            return Rejection(recipient, Reason.NO_TEMPLATE_MATCH, str(getattr(match, "reason", "") or ""))
        template_id, values = match.template.pk, dict(match.values or {})
        promotional = match.template.template_type in PROMOTIONAL_TYPES
    body, encoding = encode(text, spec.message_type)
    if spec.max_units and encoding.parts > spec.max_units:
        return Rejection(recipient, Reason.TOO_MANY_PARTS, f"{encoding.parts} parts > {spec.max_units}")
    country = country_of(recipient)
    price = spec.prices.get(country)
    if price is None:
        return Rejection(recipient, Reason.NO_PRICE, country or "unknown country")
    return Draft(
        recipient=recipient,
        country=country,
        body=body,
        encoding=encoding,
        variables=values,
        price=price,
        cost=price * encoding.parts,
        template_id=template_id,
        india_promotional=promotional and country == "IN",
    )


def batch_release_time(start: datetime, index: int, batch_size: int | None, interval_minutes: int | None) -> datetime:
    """When the `index`-th recipient (0-based) may leave: one batch of `batch_size` every `interval_minutes`."""
    if not batch_size or not interval_minutes:
        return start
    return start + timedelta(minutes=(index // batch_size) * interval_minutes)


def in_india_promotional_hours(moment: datetime) -> bool:
    start, end = setting("SMS_INDIA_PROMOTIONAL_HOURS")
    return start <= moment.astimezone(INDIA_TIME).hour < end


def india_hold_active(moment: datetime) -> bool:
    """True when promotional messages to India must wait (outside 09:00-21:00 IST)."""
    return bool(setting("SMS_INDIA_PROMOTIONAL_HOLD")) and not in_india_promotional_hours(moment)


def backoff_seconds(attempts: int) -> int:
    """Wait before the next try of a transient failure: 5 s, 10 s, 20 s, … capped."""
    return min(setting("SMS_RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0), setting("SMS_RETRY_MAX_SECONDS"))


# ------------------------------------------------------------------------------------------------ preparation

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
)


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
    connector_id: int | None
    webhook_id: str = ""
    custom_id: str = ""
    meta: dict = field(default_factory=dict)

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
            "debited": False,
            "custom_id": self.custom_id,
            "meta": self.meta,
            "webhook_id": self.webhook_id,
            "connector_id": self.connector_id,
            "connector_message_id": "",
            "state": MessageState.QUEUED,
            "error_code": "",
            "error_detail": "",
            "attempts": 0,
        }


def message_row(draft: Draft, not_before: datetime, uid: str | None = None) -> tuple:
    """The per-message columns of one Message, in ROW_COLUMNS order."""
    encoding = draft.encoding
    return (
        uid or str(uuid.uuid4()),
        draft.recipient,
        draft.country,
        draft.body,
        encoding.encoding,
        encoding.units,
        encoding.parts,
        draft.template_id,
        draft.variables,
        draft.price,
        draft.cost,
        draft.india_promotional,
        not_before,
    )


def row_value(row: tuple, column: str):
    return row[ROW_COLUMNS.index(column)]


def write_messages(defaults: MessageDefaults, now: datetime, rows: list[tuple]) -> None:
    """Insert message rows, skipping (campaign, recipient) pairs that exist: COPY on PostgreSQL, bulk elsewhere."""
    if not rows:
        return
    shared = defaults.columns(now)
    if connection.vendor == "postgresql":
        _copy_messages(shared, rows)
    else:
        messages = [Message(**shared, **dict(zip(ROW_COLUMNS, row, strict=True))) for row in rows]
        Message.objects.bulk_create(messages, batch_size=500, ignore_conflicts=True)


_VARIABLES = ROW_COLUMNS.index("variables")


def _copy_messages(shared: dict, rows: list[tuple]) -> None:
    """COPY the per-message columns into a session staging table, then one INSERT … SELECT adding the shared
    values, ON CONFLICT DO NOTHING (a re-run adds nothing twice)."""
    import json

    row_columns = ", ".join(ROW_COLUMNS)
    table = Message._meta.db_table
    names = list(shared)
    casts = ", ".join(f"%s::{Message._meta.get_field(name).db_type(connection)}" for name in names)
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
            f"INSERT INTO {table} ({', '.join(_column_names(names))}, {row_columns}) "
            f"SELECT {casts}, {row_columns} FROM message_stage ON CONFLICT (campaign_id, recipient) DO NOTHING",
            params,
        )


def _column_names(names: list[str]) -> list[str]:
    return [Message._meta.get_field(name).column for name in names]


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


@dataclass
class PreparationCounts:
    recipients: int = 0
    suppressed: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    parts: int = 0
    cost: Decimal = Decimal("0")

    def as_dict(self) -> dict:
        return {
            "recipients": self.recipients,
            "suppressed": sum(self.suppressed.values()),
            "suppressed_by_reason": dict(self.suppressed),
            "rejected": sum(self.rejected.values()),
            "rejected_by_reason": dict(self.rejected),
            "parts": self.parts,
            "cost": str(self.cost),
        }


def campaign_tags(campaign: Campaign) -> tuple[str, ...]:
    return tuple(str(tag) for tag in (campaign.audience or {}).get("tags", []))


def campaign_spec(campaign: Campaign) -> SendSpec:
    return build_spec(
        campaign.account,
        sender=campaign.sender,
        body=campaign.body,
        template=campaign.template,
        message_type=campaign.message_type,
        max_units=campaign.max_units,
        mapping=campaign.variable_mapping,
        tags=campaign_tags(campaign),
    )


def audience_contacts(campaign: Campaign):
    """The contacts of the campaign's groups, segments and tags (one query, see contacts.audience)."""
    from contacts.audience import resolve_audience

    audience = campaign.audience or {}
    return resolve_audience(
        campaign.account,
        groups=audience.get("groups") or (),
        segments=audience.get("segments") or (),
        tags=audience.get("tags") or (),
    )


def audience_opt_outs(campaign: Campaign, spec: SendSpec) -> dict[str, str]:
    """Opted-out numbers among the campaign's contacts, with the reason: one query finds them (a join of the
    audience with the applicable opt-outs), then their reasons are read for those few numbers only."""
    from contacts.suppression import suppressed_receivers_q, suppression_reasons

    audience = campaign.audience or {}
    if not (audience.get("groups") or audience.get("segments") or audience.get("tags")):
        return {}
    applicable = suppressed_receivers_q(campaign.account, sender=campaign.sender, product=spec.service, tags=spec.tags)
    numbers = list(
        audience_contacts(campaign).order_by().filter(phone__in=applicable).values_list("phone", flat=True).distinct()
    )
    return suppression_reasons(campaign.account, numbers, sender=campaign.sender, product=spec.service, tags=spec.tags)


def audience_chunks(campaign: Campaign, spec: SendSpec, chunk_size: int) -> Iterator[list[tuple[str, object]]]:
    """(E.164, contact values or None) for the campaign's contacts and pasted numbers, in chunks."""
    from contacts.phones import check_msisdn

    audience = campaign.audience or {}
    if audience.get("groups") or audience.get("segments") or audience.get("tags"):
        columns = sorted(fields_needed(spec.compiled.variables, spec.mapping) | {"phone"})
        chunk = []
        for row in audience_contacts(campaign).order_by().values(*columns).iterator(chunk_size=chunk_size):
            if row["phone"]:
                chunk.append((row["phone"], row))
            if len(chunk) >= chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
    numbers = audience.get("numbers") or []
    for start in range(0, len(numbers), chunk_size):
        chunk = []
        for raw in numbers[start : start + chunk_size]:
            result = check_msisdn(raw, campaign.account.default_country)
            chunk.append((result.e164 if result.valid else f"!{raw}", None))
        yield chunk


def plan_campaign(campaign: Campaign, on_drafts=None) -> PreparationCounts:
    """Walk the audience once: count recipients, opt-outs and rejections; hand each chunk of drafts to
    `on_drafts(drafts, first_index)` (preparation writes them; a quote only counts)."""
    from contacts.suppression import suppression_reasons

    spec = campaign_spec(campaign)
    counts = PreparationCounts()
    seen: set[str] = set()
    chunk_size = setting("SMS_PREPARE_CHUNK_SIZE")
    contact_opt_outs = audience_opt_outs(campaign, spec)
    for chunk in audience_chunks(campaign, spec, chunk_size):
        fresh = []
        for msisdn, contact in chunk:
            if msisdn.startswith("!"):
                counts.rejected[Reason.INVALID_NUMBER] += 1
            elif msisdn not in seen:
                seen.add(msisdn)
                fresh.append((msisdn, contact))
        pasted = [m for m, contact in fresh if contact is None]
        reasons = contact_opt_outs
        if pasted:
            reasons = contact_opt_outs | suppression_reasons(
                campaign.account, pasted, sender=campaign.sender, product=spec.service, tags=spec.tags
            )
        drafts = []
        for msisdn, contact in fresh:
            if msisdn in reasons:
                counts.suppressed[reasons[msisdn]] += 1
                continue
            outcome = plan_message(spec, msisdn, contact)
            if isinstance(outcome, Rejection):
                counts.rejected[outcome.reason] += 1
                continue
            drafts.append(outcome)
            counts.parts += outcome.encoding.parts
            counts.cost += outcome.cost
        if on_drafts is not None and drafts:
            on_drafts(drafts, counts.recipients)
        counts.recipients += len(drafts)
    return counts


SAMPLE_SCAN_LIMIT = 1_000


def sample_messages(campaign: Campaign, count: int = 3) -> list[Draft | Rejection]:
    """What the first `count` eligible recipients (valid, not opted out) would receive: the wizard's preview.
    At most SAMPLE_SCAN_LIMIT numbers are looked at."""
    from contacts.suppression import suppression_reasons

    spec = campaign_spec(campaign)
    samples, seen = [], set()
    for chunk in audience_chunks(campaign, spec, chunk_size=50):
        fresh = [(m, contact) for m, contact in chunk if not m.startswith("!") and m not in seen]
        seen.update(m for m, _ in fresh)
        opted_out = suppression_reasons(
            campaign.account, [m for m, _ in fresh], sender=campaign.sender, product=spec.service, tags=spec.tags
        )
        eligible = [(m, contact) for m, contact in fresh if m not in opted_out]
        samples += [plan_message(spec, m, contact) for m, contact in eligible[: count - len(samples)]]
        if len(samples) >= count or len(seen) >= SAMPLE_SCAN_LIMIT:
            break
    return samples


def audience_size(campaign: Campaign) -> int:
    """Contacts selected plus pasted numbers, before de-duplication and opt-outs (one count query)."""
    audience = campaign.audience or {}
    contacts = 0
    if audience.get("groups") or audience.get("segments") or audience.get("tags"):
        contacts = audience_contacts(campaign).count()
    return contacts + len(audience.get("numbers") or [])


def quote_campaign(campaign: Campaign) -> PreparationCounts:
    """What preparing the campaign now would give: recipients, opt-outs by reason, rejections, parts, cost."""
    return plan_campaign(campaign)


def default_connector() -> Connector | None:
    return Connector.objects.filter(is_default=True, is_active=True).first()


def prepare_campaign(campaign: Campaign) -> PreparationCounts:
    """Create the campaign's messages (idempotent) and start it; the campaign must be in `preparing`."""
    now = timezone.now()
    start = max(campaign.start_at or now, now)
    connector = campaign.connector or default_connector()
    defaults = MessageDefaults(
        account_id=campaign.account_id,
        campaign_id=campaign.pk,
        group_id=campaign.uid,
        sender_id=campaign.sender_id,
        sender_name=campaign.sender.name,
        service=campaign.sender.service,
        message_type=campaign.message_type,
        flash=campaign.flash,
        connector_id=connector.pk if connector else None,
        webhook_id=campaign.webhook_id,
    )

    def write(drafts: list[Draft], first_index: int) -> None:
        uids = time_ordered_uids(len(drafts))
        rows = [
            message_row(
                draft,
                batch_release_time(start, first_index + offset, campaign.batch_size, campaign.batch_interval_minutes),
                uids[offset],
            )
            for offset, draft in enumerate(drafts)
        ]
        writer.submit((defaults, now, rows))
        Campaign.objects.filter(pk=campaign.pk).update(updated_at=timezone.now())

    with message_writer() as writer:
        counts = plan_campaign(campaign, on_drafts=write)
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


# ------------------------------------------------------------------------------------------------------ outbox


def _unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


@dataclass
class Claim:
    token: uuid.UUID
    campaign: Campaign | None
    messages: list[Message]


def outbox_sources(now: datetime | None = None) -> list[tuple[int, int | None]]:
    """(account id, campaign id or None for API sends) that may have messages to release now."""
    now = now or timezone.now()
    api = (
        Message.objects.filter(campaign__isnull=True, state=MessageState.QUEUED, not_before__lte=now)
        .order_by()
        .values_list("account_id", flat=True)
        .distinct()
    )
    campaigns = (
        Campaign.objects.filter(state=CampaignState.RUNNING)
        .filter(Q(throttle_until__isnull=True) | Q(throttle_until__lte=now))
        .order_by("throttle_until", "pk")
        .values_list("account_id", "pk")
    )
    return [(account_id, None) for account_id in api] + list(campaigns)


def claim_batch(account_id: int, campaign_id: int | None, limit: int | None = None) -> Claim | None:
    """Claim due messages of one source with a lease and debit their cost, all in one transaction."""
    limit = limit or setting("SMS_OUTBOX_BATCH_SIZE")
    with transaction.atomic():
        now = timezone.now()
        campaign = None
        if campaign_id is not None:
            # NO KEY UPDATE: rows inserted elsewhere that reference the campaign (refunds) are not blocked by it
            campaign = (
                Campaign.objects.select_for_update(no_key=True, of=("self",))
                .filter(pk=campaign_id)
                .select_related("sender")
                .first()
            )
            if campaign is None or campaign.state != CampaignState.RUNNING:
                return None
            if campaign.throttle_until and campaign.throttle_until > now:
                return None
            if campaign.throttle_per_second:
                limit = min(limit, campaign.throttle_per_second)
        candidates = Message.objects.filter(
            account_id=account_id, campaign_id=campaign_id, state=MessageState.QUEUED, not_before__lte=now
        ).filter(_unclaimed(now))
        if india_hold_active(now):
            candidates = candidates.exclude(india_promotional=True)
        candidates = candidates.order_by("not_before", "id")
        if connection.vendor == "postgresql":
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("id", flat=True)[:limit])
        if not ids:
            return None
        token = uuid.uuid4()
        Message.objects.filter(pk__in=ids, state=MessageState.QUEUED).filter(_unclaimed(now)).update(
            claim_token=token,
            claimed_until=now + timedelta(seconds=setting("SMS_OUTBOX_LEASE_SECONDS")),
            attempts=F("attempts") + 1,
        )
        account = Account.objects.get(pk=account_id)
        messages = list(Message.objects.filter(claim_token=token).order_by("not_before", "id"))
        for message in messages:
            message.account = account
        messages = _drop_opted_out(messages, campaign, now)
        messages = _debit(account_id, campaign, messages, token, now)
        if campaign is not None and campaign.throttle_per_second and messages:
            seconds = len(messages) / campaign.throttle_per_second
            Campaign.objects.filter(pk=campaign.pk).update(throttle_until=now + timedelta(seconds=seconds))
    return Claim(token, campaign, messages) if messages else None


def _drop_opted_out(messages: list[Message], campaign: Campaign | None, now: datetime) -> list[Message]:
    """Opt-outs are checked again at send time: a number that opted out since preparation gets nothing."""
    from contacts.suppression import suppression_reasons

    if not messages:
        return messages
    keep, dropped = [], []
    by_sender: dict[tuple[str, str], list[Message]] = {}
    for message in messages:
        if (message.meta or {}).get(OPT_OUT_CONFIRMATION):
            keep.append(message)  # confirms the opt-out itself
            continue
        by_sender.setdefault((message.sender_name, message.service), []).append(message)
    tags = campaign_tags(campaign) if campaign is not None else ()
    account = messages[0].account
    for (sender_name, service), group in by_sender.items():
        reasons = suppression_reasons(
            account, [m.recipient for m in group], sender=sender_name, product=service, tags=tags
        )
        for message in group:
            (dropped if message.recipient in reasons else keep).append(message)
            if message.recipient in reasons:
                message.error_detail = f"Opted out ({reasons[message.recipient]})"
    for message in dropped:
        _finish(message, MessageState.REJECTED, dlr_codes.OPT_OUT_REJECTED, message.error_detail, now)
    return keep


def _debit(
    account_id: int, campaign: Campaign | None, messages: list[Message], token: uuid.UUID, now: datetime
) -> list[Message]:
    """Take the cost of not-yet-charged messages from the balance; what cannot be paid is released."""
    to_charge = [m for m in messages if not m.debited]
    if not to_charge:
        return messages
    account = Account.objects.select_for_update(no_key=True).get(pk=account_id)
    affordable, total = [], Decimal("0")
    for message in to_charge:
        if total + message.cost > account.balance:
            break
        affordable.append(message)
        total += message.cost
    unpaid = to_charge[len(affordable) :]
    if affordable:
        updated = Account.objects.filter(pk=account_id, balance__gte=total).update(balance=F("balance") - total)
        if not updated:
            raise RuntimeError("balance changed under a row lock")
        Message.objects.filter(pk__in=[m.pk for m in affordable]).update(debited=True)
        for message in affordable:
            message.debited = True
        BalanceTransaction.objects.create(
            account_id=account_id,
            kind=BalanceTransactionKind.DEBIT,
            amount=-total,
            balance_after=account.balance - total,
            messages=len(affordable),
            campaign=campaign,
            note="Messages released to the connector",
        )
    if unpaid:
        _stop_for_funds(campaign, unpaid, now)
    unpaid_ids = {m.pk for m in unpaid}
    return [m for m in messages if m.pk not in unpaid_ids]


def _stop_for_funds(campaign: Campaign | None, unpaid: list[Message], now: datetime) -> None:
    if campaign is None:
        for message in unpaid:
            _finish(message, MessageState.FAILED, dlr_codes.NO_CREDITS, INSUFFICIENT_FUNDS, now)
        return
    Message.objects.filter(pk__in=[m.pk for m in unpaid]).update(
        claim_token=None, claimed_until=None, attempts=F("attempts") - 1
    )
    Campaign.objects.filter(pk=campaign.pk, state=CampaignState.RUNNING).update(
        state=CampaignState.PAUSED, state_reason=INSUFFICIENT_FUNDS, updated_at=now
    )
    campaign.state = CampaignState.PAUSED


def status_payload(message: Message) -> dict:
    """The `sms:message:status` event payload."""
    return {
        "id": str(message.uid),
        "mobile": message.recipient,
        "sender": message.sender_name,
        "status": message.state,
        "code": message.error_code,
        "description": dlr_codes.describe(message.error_code) or message.error_detail,
        "custom": message.custom_id,
        "group_id": str(message.group_id),
        "parts": message.parts,
        "cost": str(message.cost),
        "connector_id": message.connector_message_id,
        "timestamp": timezone.now().isoformat(),
    }


def emit_status(message: Message) -> None:
    emit_statuses([message])


def emit_statuses(messages: list[Message]) -> None:
    """`sms:message:status` for each message (its webhook_id honoured): one bulk insert per account."""
    by_account: dict[int, list[Message]] = {}
    for message in messages:
        by_account.setdefault(message.account_id, []).append(message)
    for group in by_account.values():
        items = [EventItem(status_payload(m), m.sender_name, m.webhook_id or None) for m in group]
        emit_many(group[0].account, "sms:message:status", items)


def _refund(message: Message, note: str) -> None:
    if not message.debited or not message.cost:
        return
    Account.objects.filter(pk=message.account_id).update(balance=F("balance") + message.cost)
    Message.objects.filter(pk=message.pk).update(debited=False)
    balance = Account.objects.filter(pk=message.account_id).values_list("balance", flat=True).first()
    BalanceTransaction.objects.create(
        account_id=message.account_id,
        kind=BalanceTransactionKind.REFUND,
        amount=message.cost,
        balance_after=balance,
        messages=1,
        campaign_id=message.campaign_id,
        note=note[:200],
    )


def _finish(message: Message, state: str, code: str, detail: str, now: datetime) -> bool:
    """Move a claimed, unsent message to a final state (refunding it); True when it moved."""
    moved = Message.objects.filter(pk=message.pk, state=MessageState.QUEUED).update(
        state=state, error_code=code, error_detail=detail[:300], claim_token=None, claimed_until=None, done_at=now
    )
    if moved:
        message.state, message.error_code, message.error_detail = state, code, detail[:300]
        _refund(message, f"{state}: {detail}")
        emit_status(message)
    return bool(moved)


def _connector_of(message: Message, cache: dict):
    key = message.connector_id
    if key not in cache:
        row = Connector.objects.filter(pk=key).first() if key else default_connector()
        cache[key] = connector_for(row)
    return cache[key]


def send_claimed(claim: Claim, chunk_size: int = 100) -> list[tuple[Message, object]]:
    """Hand the claimed messages to their connectors in chunks; stops early when the campaign is paused or
    cancelled (the rest of the claim is released)."""
    from campaigns.connectors import ConnectorResult

    results, connectors = [], {}
    for start in range(0, len(claim.messages), chunk_size):
        if claim.campaign is not None and start and _campaign_stopped(claim.campaign.pk):
            _release(claim.token, [m.pk for m in claim.messages[start:]])
            break
        chunk = claim.messages[start : start + chunk_size]
        by_connector: dict[int | None, list[Message]] = {}
        for message in chunk:
            by_connector.setdefault(message.connector_id, []).append(message)
        for group in by_connector.values():
            try:
                answers = _connector_of(group[0], connectors).send_many(group)
            except Exception as exc:  # a connector bug or outage must not lose messages: retry them later
                logger.exception("connector failed for %s messages", len(group))
                answers = [ConnectorResult.retry(f"connector error: {exc}")] * len(group)
            results.extend(zip(group, answers, strict=True))
    return results


def _campaign_stopped(campaign_id: int) -> bool:
    state = Campaign.objects.filter(pk=campaign_id).values_list("state", flat=True).first()
    return state != CampaignState.RUNNING


def _release(token: uuid.UUID, ids: list[int]) -> None:
    Message.objects.filter(pk__in=ids, claim_token=token, state=MessageState.QUEUED).update(
        claim_token=None, claimed_until=None
    )


def record_results(claim: Claim, results: list[tuple[Message, object]]) -> None:
    """Store what the connector said: sent, rejected, or back to the queue with backoff."""
    now = timezone.now()
    with transaction.atomic():
        owned_query = Message.objects.filter(claim_token=claim.token, state=MessageState.QUEUED)
        if connection.vendor == "postgresql":
            owned_query = owned_query.select_for_update(no_key=True)
        owned = set(owned_query.values_list("id", flat=True))
        sent = []
        for message, result in results:
            if message.pk not in owned:
                if result.outcome == Outcome.ACCEPTED:
                    Message.objects.filter(pk=message.pk, connector_message_id="").update(
                        connector_message_id=result.connector_message_id, sent_at=now
                    )
                continue
            if result.outcome == Outcome.ACCEPTED:
                message.state, message.connector_message_id, message.sent_at = (
                    MessageState.SENT,
                    result.connector_message_id,
                    now,
                )
                message.claim_token = message.claimed_until = None
                sent.append(message)
            elif result.outcome == Outcome.REJECTED:
                _finish(message, MessageState.REJECTED, result.error_code, result.detail or "rejected", now)
            elif message.attempts >= setting("SMS_RETRY_MAX_ATTEMPTS"):
                _finish(
                    message, MessageState.FAILED, "", f"gave up after {message.attempts} tries: {result.detail}", now
                )
            else:
                Message.objects.filter(pk=message.pk).update(
                    claim_token=None,
                    claimed_until=None,
                    not_before=now + timedelta(seconds=backoff_seconds(message.attempts)),
                    error_detail=result.detail[:300],
                )
        Message.objects.filter(pk__in=[m.pk for m in sent]).update(
            state=MessageState.SENT, sent_at=now, claim_token=None, claimed_until=None
        )
        set_connector_ids([(m.pk, m.connector_message_id) for m in sent])
        emit_statuses(sent)


def set_connector_ids(pairs: list[tuple[int, str]]) -> None:
    """Store each message's upstream id: one `UPDATE … FROM unnest()` on PostgreSQL, bulk_update elsewhere."""
    if not pairs:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Message._meta.db_table} AS m SET connector_message_id = v.cid "
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, cid) WHERE m.id = v.id",
                [[pk for pk, _ in pairs], [cid for _, cid in pairs]],
            )
        return
    Message.objects.bulk_update(
        [Message(pk=pk, connector_message_id=cid) for pk, cid in pairs], ["connector_message_id"], batch_size=500
    )


def dispatch_once(account_id: int, campaign_id: int | None) -> int:
    """Claim, send and record one batch of one source; returns how many messages were handled."""
    claim = claim_batch(account_id, campaign_id)
    if claim is None:
        return 0
    results = send_claimed(claim)
    record_results(claim, results)
    return len(results)


def run_outbox(seconds: float | None = None) -> int:
    """Release due messages of every source until none is left or `seconds` have passed."""
    deadline = time.monotonic() + (seconds if seconds is not None else setting("SMS_OUTBOX_TASK_SECONDS"))
    handled = 0
    while time.monotonic() < deadline:
        round_handled = 0
        for account_id, campaign_id in outbox_sources():
            round_handled += dispatch_once(account_id, campaign_id)
            if time.monotonic() >= deadline:
                break
        handled += round_handled
        if not round_handled:
            break
    return handled


def due_batches(now: datetime | None = None) -> int:
    """How many outbox batches are due now (to size the fan-out of a sweep)."""
    now = now or timezone.now()
    due = (
        Message.objects.filter(state=MessageState.QUEUED, not_before__lte=now)
        .filter(_unclaimed(now))
        .filter(Q(campaign__isnull=True) | Q(campaign__state=CampaignState.RUNNING))
        .order_by()[: setting("SMS_OUTBOX_BATCH_SIZE") * setting("SMS_OUTBOX_PARALLELISM")]
        .count()
    )
    return -(-due // setting("SMS_OUTBOX_BATCH_SIZE"))


def finish_campaigns() -> int:
    """Running campaigns with nothing left in the outbox become completed."""
    finished = 0
    for campaign in Campaign.objects.filter(state=CampaignState.RUNNING).only("pk"):
        if not Message.objects.filter(campaign=campaign, state=MessageState.QUEUED).exists():
            finished += Campaign.objects.filter(pk=campaign.pk, state=CampaignState.RUNNING).update(
                state=CampaignState.COMPLETED, finished_at=timezone.now(), updated_at=timezone.now()
            )
    return finished


# ------------------------------------------------------------------------------------------- delivery reports


@dataclass(frozen=True)
class Report:
    """One delivery report as received: the message's public id, the seed code, where it came from."""

    message_uid: uuid.UUID | str
    code: str
    source: str = ""
    status: str = ""
    raw: dict = field(default_factory=dict)
    state: str | None = None


def apply_delivery_reports(reports: list[Report]) -> int:
    """Store the reports and move each message forward (never back); repeats change nothing. One transaction."""
    if not reports:
        return 0
    applied_count = 0
    with transaction.atomic():
        now = timezone.now()
        query = Message.objects.filter(uid__in=[r.message_uid for r in reports]).select_related("account")
        if connection.vendor == "postgresql":
            query = query.select_for_update(of=("self",))
        messages = {str(m.uid): m for m in query.order_by("pk")}
        rows, changed = [], []
        for report in reports:
            message = messages.get(str(report.message_uid))
            if message is None:
                continue
            entry = dlr_codes.DLR_CODES.get(report.code)
            state = report.state or dlr_codes.state_for(report.code)
            applied = message.state in states_before(state)
            if applied:
                message.state, message.done_at = state, now
                message.claim_token = message.claimed_until = None
                if state != MessageState.DELIVERED:
                    message.error_code = report.code
                changed.append(message)
                applied_count += 1
            rows.append(
                DeliveryReport(
                    account_id=message.account_id,
                    message=message,
                    code=report.code,
                    status=report.status or (entry.status if entry else ""),
                    state=state,
                    applied=applied,
                    source=report.source,
                    raw=report.raw,
                )
            )
        by_outcome: dict[tuple[str, str], list[int]] = {}
        for message in changed:
            by_outcome.setdefault((message.state, message.error_code), []).append(message.pk)
        for (state, code), ids in by_outcome.items():
            Message.objects.filter(pk__in=ids).update(
                state=state, error_code=code, done_at=now, claim_token=None, claimed_until=None
            )
        DeliveryReport.objects.bulk_create(rows, batch_size=500)
        emit_statuses(changed)
    return applied_count


def apply_delivery_report(
    message_uid, code: str, *, source: str = "", status: str = "", raw: dict | None = None, state: str | None = None
) -> bool:
    """One report (a connector callback); True when it moved the message forward."""
    return bool(apply_delivery_reports([Report(message_uid, code, source, status, raw or {}, state)]))


def release_expired_claims() -> int:
    """Clear claims whose lease expired (a crashed worker's batch): the messages are due again."""
    return Message.objects.filter(state=MessageState.QUEUED, claimed_until__lt=timezone.now()).update(
        claim_token=None, claimed_until=None
    )
