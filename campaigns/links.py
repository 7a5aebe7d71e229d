"""Smart links: a send's URLs shortened per recipient on the portal's own short host, and their visits.

A send asks for links with `{{smart_link}}` in its text (the send's `smart_link_url`, shortened) or with "track
links" (every http(s):// or www. URL of the text shortened, except the short host's own). The short URL is
`SHORT_LINK_BASE_URL/<code>`, the code `SHORT_LINK_CODE_LENGTH` base62 characters from `secrets` (8: ~47.6 bits),
so every short URL of a configuration has the same length.

Planning (`Shortener.shorten`) puts a placeholder short URL of that length into the text, so the encoding, parts,
price and template match are worked out (and cached) once per distinct text as for any send; writing the rows
(`Shortener.issue`) replaces each placeholder by the recipient's own code and keeps the link row, which the
preparation writes with the message rows (`write_short_links`: one COPY per chunk on PostgreSQL; a code already
taken is drawn again and the message body follows).
"""

import re
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from campaigns.conf import setting
from campaigns.models import LinkVisit, Message, ShortLink, SmartLink
from campaigns.sending.errors import SendingError
from campaigns.variables import parse_body
from portal.bulk import insert_rows

SMART_LINK_VARIABLE = "smart_link"
RESERVED_VARIABLES = frozenset({SMART_LINK_VARIABLE})  # filled by the send, never mapped to a contact field
SMART_LINK_POSITION = 0  # `{{smart_link}}`; tracked URLs of the text are 1, 2, … in order
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
MIN_CODE_LENGTH, MAX_CODE_LENGTH = 6, 16
MAX_URL_LENGTH = 2000
SHORT_LINK_COLUMNS = ("code", "link_id", "message_uid", "recipient", "target_url")
CODE_PATTERN = re.compile(rf"[0-9A-Za-z]{{{MIN_CODE_LENGTH},{MAX_CODE_LENGTH}}}")
# http(s):// or www. up to a space; a sentence's closing punctuation is not part of it
URL_PATTERN = re.compile(r"(?:https?://|www\.)[^\s<>\"{}|\\^`]+", re.IGNORECASE)
TRAILING = ".,;:!?'\")]}"
_BYTE_TO_CHAR = bytes(ord(ALPHABET[byte % 62]) if byte < 248 else 0 for byte in range(256))
_UNEVEN_BYTES = bytes(range(248, 256))  # dropped: 248 = 4 * 62, so each character is equally likely
CACHE_LIMIT = 10_000


def short_base_url() -> str:
    return str(setting("SHORT_LINK_BASE_URL")).rstrip("/")


def code_length() -> int:
    return min(max(int(setting("SHORT_LINK_CODE_LENGTH")), MIN_CODE_LENGTH), MAX_CODE_LENGTH)


def short_url_length() -> int:
    """Characters every short URL of this configuration takes in a text."""
    return len(short_base_url()) + 1 + code_length()


def short_url(code: str) -> str:
    return f"{short_base_url()}/{code}"


def short_link_path() -> str:
    """The path the short host serves codes under ("l/" for the default http://127.0.0.1:8000/l)."""
    path = urlsplit(short_base_url()).path.strip("/")
    return f"{path}/" if path else ""


def random_text(count: int) -> str:
    """`count` base62 characters from the OS's random source, each equally likely."""
    text = ""
    while len(text) < count:
        text += secrets.token_bytes(count + count // 16 + 16).translate(_BYTE_TO_CHAR, _UNEVEN_BYTES).decode()
    return text[:count]


class CodeSource:
    """Codes drawn from a buffer of random characters (one read of the random source per 4,096 codes)."""

    def __init__(self, length: int, batch: int = 4096):
        self.length, self.batch = length, batch
        self.buffer, self.offset = "", 0

    def take(self) -> str:
        if self.offset + self.length > len(self.buffer):
            self.buffer, self.offset = random_text(self.length * self.batch), 0
        start = self.offset
        self.offset += self.length
        return self.buffer[start : self.offset]


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans of the http(s):// and www. URLs in a text, without a sentence's closing punctuation."""
    spans = []
    for match in URL_PATTERN.finditer(text):
        start, end = match.span()
        while end > start and text[end - 1] in TRAILING:
            end -= 1
        spans.append((start, end))
    return spans


def target_of(url: str) -> str:
    """Where a URL of a text leads (a bare www. address gets http://)."""
    return url if "://" in url else f"http://{url}"


@dataclass(frozen=True)
class LinkOptions:
    """What a send asks for: every URL of the text tracked, and/or the URL `{{smart_link}}` stands for."""

    track_links: bool = False
    smart_link_url: str = ""

    @property
    def active(self) -> bool:
        return self.track_links or bool(self.smart_link_url)


def uses_smart_link(body: str) -> bool:
    return any(variable.name == SMART_LINK_VARIABLE for variable in parse_body(body).variables)


def check_smart_link_url(url: str, *, field: str = "smart_link_url") -> str:
    """A target URL: http(s), a host, no spaces, at most MAX_URL_LENGTH characters. Returns it stripped."""
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or find_urls(url) != [(0, len(url))]:
        raise SendingError(f"{url[:80]!r} is not an http:// or https:// URL.", field=field, code="invalid")
    if len(url) > MAX_URL_LENGTH:
        raise SendingError(f"A link is at most {MAX_URL_LENGTH} characters.", field=field, code="invalid")
    return url


def check_link_options(body: str, options: LinkOptions, *, field: str = "smart_link_url") -> None:
    """`{{smart_link}}` in the text needs the URL it stands for."""
    check_smart_link_url(options.smart_link_url, field=field)
    if not options.smart_link_url and uses_smart_link(body):
        raise SendingError(
            f"The text uses {{{{{SMART_LINK_VARIABLE}}}}}: give the URL it leads to ({field}).", field=field
        )


class Shortener:
    """The short links of one send: placeholders while planning, each recipient's codes while writing."""

    def __init__(self, options: LinkOptions, *, account_id: int, group_id, campaign_id=None, sender_name=""):
        self.options = options
        self.account_id, self.group_id, self.campaign_id = account_id, group_id, campaign_id
        self.sender_name = sender_name
        self.base = short_base_url()
        self.codes = CodeSource(code_length())
        self.placeholders: dict[int, str] = {}
        self.link_ids: dict[int, tuple[int, str]] = {}
        self.pending: list[tuple] = []
        self._shortened: dict[str, tuple[str, tuple]] = {}

    def placeholder(self, position: int) -> str:
        """The short URL standing for the recipient's own in planned texts (random: no text holds it)."""
        if position not in self.placeholders:
            self.placeholders[position] = f"{self.base}/{self.codes.take()}"
        return self.placeholders[position]

    def expand(self, body: str) -> str:
        """The body with each `{{smart_link}}` (whatever its filters) as the smart link's placeholder."""
        if not self.options.smart_link_url:
            return body
        pieces, cursor = [], 0
        for variable in parse_body(body).variables:
            if variable.name == SMART_LINK_VARIABLE:
                pieces += [body[cursor : variable.start], self.placeholder(SMART_LINK_POSITION)]
                cursor = variable.end
        return "".join(pieces) + body[cursor:]

    def shorten(self, text: str) -> tuple[str, tuple[tuple[int, str], ...]]:
        """The text with placeholders, and the (position, target) of each link in it (cached per text)."""
        known = self._shortened.get(text)
        if known is None:
            if len(self._shortened) >= CACHE_LIMIT:
                self._shortened.clear()
            known = self._shortened[text] = self._shorten(text)
        return known

    def _shorten(self, text: str) -> tuple[str, tuple[tuple[int, str], ...]]:
        links = []
        smart = self.placeholders.get(SMART_LINK_POSITION)
        if smart is not None and smart in text:
            links.append((SMART_LINK_POSITION, self.options.smart_link_url))
        if not self.options.track_links:
            return text, tuple(links)
        pieces, cursor, position = [], 0, SMART_LINK_POSITION
        for start, end in find_urls(text):
            url = text[start:end]
            if url.startswith(self.base):
                continue
            position += 1
            pieces += [text[cursor:start], self.placeholder(position)]
            links.append((position, target_of(url)))
            cursor = end
        return "".join(pieces) + text[cursor:], tuple(links)

    def issue(self, body: str, links: tuple[tuple[int, str], ...], message_uid: str, recipient: str) -> str:
        """The body with the recipient's own short URLs; their rows wait in `pending` for `take`."""
        for position, target in links:
            code = self.codes.take()
            body = body.replace(self.placeholders[position], f"{self.base}/{code}")
            link_id, shared_target = self._link(position, target)
            self.pending.append((code, link_id, message_uid, recipient, "" if target == shared_target else target))
        return body

    def take(self) -> list[tuple]:
        rows, self.pending = self.pending, []
        return rows

    def _link(self, position: int, target: str) -> tuple[int, str]:
        if position not in self.link_ids:
            link, _ = SmartLink.objects.get_or_create(
                group_id=self.group_id,
                position=position,
                defaults={
                    "account_id": self.account_id,
                    "campaign_id": self.campaign_id,
                    "target_url": target,
                    "sender_name": self.sender_name,
                },
            )
            self.link_ids[position] = (link.pk, link.target_url)
        return self.link_ids[position]


def shortener_for(
    options: LinkOptions, *, account_id: int, group_id, campaign_id=None, sender_name: str = ""
) -> Shortener | None:
    """The shortener of a send that tracks links or uses `{{smart_link}}` (None otherwise)."""
    if not options.active:
        return None
    return Shortener(
        options, account_id=account_id, group_id=group_id, campaign_id=campaign_id, sender_name=sender_name
    )


def campaign_shortener(campaign) -> Shortener | None:
    return shortener_for(
        LinkOptions(campaign.track_links, campaign.smart_link_url),
        account_id=campaign.account_id,
        group_id=campaign.uid,
        campaign_id=campaign.pk,
        sender_name=campaign.sender.name,
    )


def write_short_links(rows: list[tuple]) -> dict[str, str]:
    """Insert short link rows (SHORT_LINK_COLUMNS) in one COPY; codes already taken (a chance of about one in
    twenty million per code at 10M links and 8 characters) are drawn again. Returns {code drawn: code written}."""
    renamed: dict[str, str] = {}
    origin: dict[str, str] = {}
    source = CodeSource(code_length(), batch=64)
    for _attempt in range(5):
        codes = [row[0] for row in rows]
        try:
            if len(set(codes)) != len(codes):
                raise IntegrityError("a code drawn twice in one batch")
            with transaction.atomic():
                insert_rows(ShortLink, SHORT_LINK_COLUMNS, rows)
            return renamed
        except IntegrityError:
            taken = set(ShortLink.objects.filter(code__in=codes).values_list("code", flat=True))
            seen: set[str] = set()
            fresh = []
            for row in rows:
                code = row[0]
                if code in taken or code in seen:
                    new = source.take()
                    first = origin.get(code, code)
                    renamed[first], origin[new] = new, first
                    row = (new, *row[1:])
                seen.add(row[0])
                fresh.append(row)
            rows = fresh
    raise IntegrityError("short link codes kept colliding")


def renamed_body(body: str, renamed: dict[str, str]) -> str:
    """A message body with the short URLs of codes drawn again (`write_short_links`) changed to their new code."""
    for old, new in renamed.items():
        if old in body:
            body = body.replace(f"/{old}", f"/{new}")
    return body


def drop_unsent(rows: list[tuple], renamed: dict[str, str]) -> None:
    """A restarted preparation drew new codes for recipients whose message was written before: those codes went
    out in no message, their rows go."""
    uids = {uuid.UUID(str(row[2])) for row in rows}
    sent = set(Message.objects.filter(uid__in=uids).values_list("uid", flat=True))
    unsent = [renamed.get(row[0], row[0]) for row in rows if uuid.UUID(str(row[2])) not in sent]
    if unsent:
        ShortLink.objects.filter(code__in=unsent).delete()


def _count_per_link(model, expression: str, *, distinct: bool = False):
    rows = model.objects.filter(link=OuterRef("pk")).order_by().values("link")
    return Coalesce(Subquery(rows.annotate(n=Count(expression, distinct=distinct)).values("n")[:1]), 0)


def smart_links_with_counts(queryset):
    """Smart links with `recipients` (short URLs sent), `clicks` (visits) and `visitors` (recipients who
    clicked): indexed counts per link."""
    return queryset.annotate(
        recipients=_count_per_link(ShortLink, "code"),
        clicks=_count_per_link(LinkVisit, "id"),
        visitors=_count_per_link(LinkVisit, "short_link", distinct=True),
    )
