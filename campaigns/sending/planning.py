"""Planning: what each recipient of a send would get, before anything is written.

- `plan_message` (pure): one recipient → a `Draft` (text, encoding, parts, price) or a `Rejection` with a reason.
- `plan_campaign`: walk a campaign's recipients once (through `contacts.recipients`, the one door into contacts)
  and count recipients, opt-outs by reason, rejections, parts and cost; preparation hands each chunk of drafts
  to its writer, a quote or the wizard's review only counts. `sample_messages` is the wizard's preview.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from campaigns.conf import setting
from campaigns.encoding import PORT_IE_BYTES, SmsEncoding, analyze, to_gsm_lossy
from campaigns.links import Shortener, campaign_shortener
from campaigns.matching import match_message
from campaigns.models import Campaign, TemplateType
from campaigns.pricing import price_list
from campaigns.rendering import CompiledBody, compile_body, fields_needed, value_sources, values_from_row
from campaigns.sending.errors import Reason
from campaigns.states import MessageType
from campaigns.template_filters import FilterFailure
from campaigns.template_rules import variable_max_length
from campaigns.variables import braced
from contacts.recipients import Recipient, recipients
from portal.models import Account

PROMOTIONAL_TYPES = frozenset({TemplateType.PROMOTIONAL, TemplateType.SERVICE_EXPLICIT})
PROMOTIONAL_SERVICES = frozenset({"MKT"})
SAMPLE_SCAN_LIMIT = 1_000


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
    links: tuple[tuple[int, str], ...] = ()  # (position, target) of each short URL placeholder in `body`


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
    prices: dict[str, Decimal]
    match_required: bool
    promotional: bool
    variable_limit: int
    port: int | None = None
    shortener: Shortener | None = None  # smart links: the send's URLs shortened per recipient
    match_cache: dict = field(default_factory=dict)

    def __post_init__(self):
        self.sources = value_sources(self.compiled.variables, self.mapping)

    def match(self, text: str):
        if text not in self.match_cache:
            self.match_cache[text] = match_message(self.account, self.sender, text)
        return self.match_cache[text]


def build_spec(
    account: Account,
    *,
    sender,
    body: str,
    template=None,
    message_type: str = MessageType.AUTO,
    max_units: int | None = None,
    mapping: dict | None = None,
    service: str | None = None,
    port: int | None = None,
    shortener: Shortener | None = None,
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
        compiled=compile_body(shortener.expand(body) if shortener is not None else body),
        template=template,
        message_type=message_type or MessageType.AUTO,
        max_units=max_units,
        mapping=mapping or {},
        prices=price_list(account, service),
        match_required=template is None and sender.country_code in setting("SMS_TEMPLATE_MATCH_COUNTRIES"),
        promotional=promotional,
        variable_limit=variable_max_length(),
        port=port,
        shortener=shortener,
    )


@lru_cache(maxsize=50_000)
def encode(text: str, message_type: str, port: int | None = None) -> tuple[str, SmsEncoding]:
    """The text as sent and its encoding for send type N (GSM, lossy), U (always UCS-2) or A (auto); a
    destination `port` puts an application port element in the header of every part, which holds less."""
    if message_type == MessageType.NORMAL:
        text = to_gsm_lossy(text)
    udh_bytes = PORT_IE_BYTES if port is not None else 0
    return text, analyze(text, udh_bytes=udh_bytes, force_ucs2=message_type == MessageType.UNICODE)


def check_values(recipient: str, values: dict[str, str], limit: int) -> Rejection | None:
    """A message whose variable value is empty, or longer than `limit` (DLT 783), is refused: the rendered text
    would not match its approved template (each variable holds 1 to `limit` characters). `values` are what fills
    each slot, after its filters (`CompiledBody.outputs`)."""
    for name, value in values.items():
        if not value.strip():
            return Rejection(recipient, Reason.VARIABLE_EMPTY, f"{braced(name)} is empty")
        if len(value) > limit:
            return Rejection(recipient, Reason.VARIABLE_TOO_LONG, f"{name} over {limit}")
    return None


def plan_message(
    spec: SendSpec, recipient: str, country: str, contact: dict | None = None, values: dict | None = None
) -> Draft | Rejection:
    """One recipient's message, or why there is none. `contact` holds the contact's columns (None for a pasted
    number or an API send, whose `values` are given)."""
    if contact is not None:
        values = values_from_row(contact, spec.sources)
    else:
        given = values or {}
        values = values_from_row({}, spec.sources) | {
            name: str(given[name]) for name in spec.compiled.variables if name in given
        }
    compiled, filled = spec.compiled, values
    if compiled.chains:  # a body without filters fills its slots with the values themselves
        try:
            filled = compiled.outputs(values)
        except FilterFailure as failure:
            return Rejection(recipient, Reason.FILTER_FAILED, str(failure))
    refusal = check_values(recipient, filled, spec.variable_limit)
    if refusal is not None:
        return refusal
    text = compiled.join(filled)
    links = ()
    if spec.shortener is not None:
        text, links = spec.shortener.shorten(text)
    template_id = spec.template.pk if spec.template is not None else None
    promotional = spec.promotional
    if spec.match_required:
        match = spec.match(text)
        if getattr(match, "template", None) is None:
            return Rejection(recipient, Reason.NO_TEMPLATE_MATCH, str(getattr(match, "reason", "") or ""))
        template_id, values = match.template.pk, dict(match.values or {})
        promotional = match.template.template_type in PROMOTIONAL_TYPES
    body, encoding = encode(text, spec.message_type, spec.port)
    if spec.max_units and encoding.parts > spec.max_units:
        return Rejection(recipient, Reason.TOO_MANY_PARTS, f"{encoding.parts} parts > {spec.max_units}")
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
        links=links,
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


def campaign_spec(campaign: Campaign) -> SendSpec:
    return build_spec(
        campaign.account,
        sender=campaign.sender,
        body=campaign.body,
        template=campaign.template,
        message_type=campaign.message_type,
        max_units=campaign.max_units,
        mapping=campaign.variable_mapping,
        port=campaign.destination_port,
        shortener=campaign_shortener(campaign),
    )


def campaign_recipients(campaign: Campaign, spec: SendSpec, chunk_size: int) -> Iterable[list[Recipient]]:
    """The campaign's recipients through the one door into contacts, with the columns its variables need."""
    return recipients(
        campaign.account,
        campaign.audience,
        sender=campaign.sender,
        product=spec.service,
        promotional=spec.promotional,
        columns=fields_needed(spec.compiled.variables, spec.mapping),
        chunk_size=chunk_size,
    )


def plan_campaign(
    campaign: Campaign, on_drafts: Callable[[list[Draft], int], None] | None = None, spec: SendSpec | None = None
) -> PreparationCounts:
    """Walk the audience once: count recipients, opt-outs and rejections; hand each chunk of drafts to
    `on_drafts(drafts, first_index)` (preparation writes them, with `spec`; a quote only counts)."""
    spec = spec or campaign_spec(campaign)
    counts = PreparationCounts()
    for chunk in campaign_recipients(campaign, spec, setting("SMS_PREPARE_CHUNK_SIZE")):
        drafts = []
        for item in chunk:
            if item.invalid:
                counts.rejected[Reason.INVALID_NUMBER] += 1
                continue
            if item.repeated:
                continue
            if item.opt_out:
                counts.suppressed[item.opt_out] += 1
                continue
            outcome = plan_message(spec, item.number, item.country, item.contact)
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


def quote_campaign(campaign: Campaign) -> PreparationCounts:
    """What preparing the campaign now would give: recipients, opt-outs by reason, rejections, parts, cost."""
    return plan_campaign(campaign)


def sample_messages(campaign: Campaign, count: int = 3) -> list[Draft | Rejection]:
    """What the first `count` eligible recipients (valid, not opted out) would receive: the wizard's preview.
    At most SAMPLE_SCAN_LIMIT numbers are looked at."""
    spec = campaign_spec(campaign)
    samples, seen = [], 0
    for chunk in campaign_recipients(campaign, spec, chunk_size=50):
        eligible = [item for item in chunk if not (item.invalid or item.repeated or item.opt_out)]
        samples += [plan_message(spec, i.number, i.country, i.contact) for i in eligible[: count - len(samples)]]
        seen += len(chunk)
        if len(samples) >= count or seen >= SAMPLE_SCAN_LIMIT:
            break
    return samples
