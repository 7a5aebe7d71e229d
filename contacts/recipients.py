"""THE door from sending into contacts: who a send reaches, with which values, and who must not get it.

An audience is a dict `{"groups": [...], "segments": [...], "tags": [...], "numbers": [...]}` (public ids, tag
names, pasted numbers). `recipients()` walks it once and yields each number once, with:
- its country (the contact's own, computed when it was written, else `contacts.phones`),
- the contact's columns a message needs (None for a pasted number),
- the broadest opt-out that applies to this send (`contacts.suppression`), or None,
- why a pasted number is invalid, or that it repeats one seen before.

Which tags a send targets (its direct tags and the positive tags of its segments, for tag-scoped opt-outs) is
`targeted_tags`, defined here once: quotes, previews, preparation and the re-check at release all use it.
"""

from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from django.db.models import QuerySet

from contacts.audience import resolve_audience, targeted_tag_names
from contacts.models import Contact
from contacts.phones import check_msisdn
from contacts.suppression import USER_REQUESTED, suppressed_receivers_q, suppression_reasons

AUDIENCE_KEYS = ("groups", "segments", "tags", "numbers")
CONTACT_KEYS = ("groups", "segments", "tags")


class Recipient(NamedTuple):
    number: str  # E.164 when valid, else the text as given
    country: str
    contact: dict | None  # the contact's columns asked for; None for a pasted number
    opt_out: str | None = None  # the broadest opt-out type that applies to this send
    invalid: str = ""  # why the number is not valid ("" when it is)
    repeated: bool = False  # the number came earlier in this audience
    given: str = ""  # the text as given (pasted numbers)


def has_contacts(audience: Mapping | None) -> bool:
    """True when the audience selects contacts (groups, segments or tags), not only pasted numbers."""
    audience = audience or {}
    return any(audience.get(key) for key in CONTACT_KEYS)


def is_empty(audience: Mapping | None) -> bool:
    audience = audience or {}
    return not any(audience.get(key) for key in AUDIENCE_KEYS)


def audience_contacts(account, audience: Mapping | None) -> QuerySet[Contact]:
    """The contacts of the audience's groups, segments and tags (one query, see contacts.audience)."""
    audience = audience or {}
    return resolve_audience(
        account,
        groups=audience.get("groups") or (),
        segments=audience.get("segments") or (),
        tags=audience.get("tags") or (),
    )


def targeted_tags(account, audience: Mapping | None) -> tuple[str, ...]:
    """The tags a send targets: its direct tags and the positive tags of its segments (tag opt-outs apply)."""
    audience = audience or {}
    return targeted_tag_names(account, tags=audience.get("tags") or (), segments=audience.get("segments") or ())


def audience_size(account, audience: Mapping | None) -> int:
    """Contacts selected plus pasted numbers, before de-duplication and opt-outs (one count query)."""
    audience = audience or {}
    contacts = audience_contacts(account, audience).count() if has_contacts(audience) else 0
    return contacts + len(audience.get("numbers") or [])


def recipients(
    account,
    audience: Mapping | None,
    *,
    sender=None,
    product: str | None = None,
    columns: Iterable[str] = (),
    chunk_size: int = 5000,
    check_opt_outs: bool = True,
    requested_by_user: bool = False,
    promotional: bool = False,
) -> Iterator[list[Recipient]]:
    """The audience's numbers in chunks, each once (a repeat of a pasted number is yielded marked `repeated`).
    `requested_by_user` (a Verify code): only `all` and sender opt-outs apply; `promotional`: DND entries too
    (`contacts.suppression`)."""
    audience = audience or {}
    tags = targeted_tags(account, audience) if check_opt_outs and not requested_by_user else ()
    if requested_by_user:
        product = USER_REQUESTED
    seen: set[str] = set()
    if has_contacts(audience):
        scope = {"sender": sender, "product": product, "tags": tags, "promotional": promotional}
        opted_out = _contact_opt_outs(account, audience, scope) if check_opt_outs else {}
        yield from _contact_chunks(account, audience, columns, chunk_size, opted_out, seen)
    numbers = [str(number) for number in audience.get("numbers") or []]
    for start in range(0, len(numbers), chunk_size):
        chunk = [_pasted(raw, account.default_country, seen) for raw in numbers[start : start + chunk_size]]
        if check_opt_outs:
            valid = [item.number for item in chunk if not item.invalid and not item.repeated]
            reasons = suppression_reasons(
                account, valid, sender=sender, product=product, tags=tags, promotional=promotional
            )
            chunk = [item._replace(opt_out=reasons[item.number]) if item.number in reasons else item for item in chunk]
        yield chunk


def _contact_opt_outs(account, audience, scope: dict) -> dict[str, str]:
    """Opted-out numbers among the audience's contacts with their reason: one query finds them (a join of the
    audience with the applicable opt-outs), then their reasons are read for those few numbers only. `scope`
    holds the keyword arguments of `contacts.suppression` (sender, product, tags, promotional)."""
    applicable = suppressed_receivers_q(account, **scope)
    contacts = audience_contacts(account, audience).order_by().filter(phone__in=applicable)
    numbers = list(contacts.values_list("phone", flat=True).distinct())
    return suppression_reasons(account, numbers, **scope)


def _contact_chunks(account, audience, columns, chunk_size, opted_out, seen) -> Iterator[list[Recipient]]:
    names = sorted(set(columns) | {"phone", "country"})
    rows = audience_contacts(account, audience).order_by().values(*names).iterator(chunk_size=chunk_size)
    chunk: list[Recipient] = []
    for row in rows:
        number = row["phone"]
        if not number or number in seen:
            continue
        seen.add(number)
        country = row["country"] or (check_msisdn(number, None).country or "")
        chunk.append(Recipient(number, country, row, opted_out.get(number)))
        if len(chunk) >= chunk_size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _pasted(raw: str, default_country: str, seen: set[str]) -> Recipient:
    result = check_msisdn(raw, default_country)
    if not result.valid:
        return Recipient(raw, "", None, invalid=result.reason or "invalid number", given=raw)
    repeated = result.e164 in seen
    seen.add(result.e164)
    return Recipient(result.e164, result.country or "", None, repeated=repeated, given=raw)
