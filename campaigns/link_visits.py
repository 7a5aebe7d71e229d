"""A followed short URL: the visit recorded (time, user agent and what it says, the country when a local GeoIP
database is configured) and the `smartlink:visit` event (BICS "Smart Link" webhook payload: id, link_id,
user_agent, browser, browser_version, platform, device_type, device_brand, country, country_code, region, city,
mobile, created_at), one payload builder for live events and the sample a webhook's test shows.

User agents are parsed by ua-parser (the uap-core rules, with its native ua-parser-rs matcher), cached per user
agent. The country, region and city come from `SHORT_LINK_GEOIP_DATABASE`, a MaxMind DB (.mmdb) file such as
GeoLite2-City or -Country read with maxminddb; empty (the default) records no place.
"""

import ipaddress
import logging
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import maxminddb
import ua_parser
from django.utils import timezone

from campaigns.conf import setting
from campaigns.links import CODE_PATTERN
from campaigns.models import LinkVisit, ShortLink, SmartLink
from portal.accounts import zone_of
from portal.events import emit
from portal.webhooks.delivery import relaxed_durability
from portal.webhooks.registry import EventType

logger = logging.getLogger(__name__)

VISIT_EVENT = "smartlink:visit"
USER_AGENT_LIMIT = 500
DESKTOP_PLATFORMS = frozenset({"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora", "FreeBSD"})
TABLET_HINTS = ("iPad", "Tablet")
SAMPLE_ZONE = ZoneInfo("Asia/Kolkata")


@dataclass(frozen=True)
class Agent:
    """What a user agent says: browser, platform (OS), device."""

    browser: str = ""
    browser_version: str = ""
    platform: str = ""
    platform_version: str = ""
    device_type: str = ""
    device_brand: str = ""
    device_model: str = ""


@dataclass(frozen=True)
class Place:
    country: str = ""
    country_code: str = ""
    region: str = ""
    city: str = ""


def _version(part) -> str:
    return ".".join(str(piece) for piece in (part.major, part.minor, part.patch) if piece) if part else ""


@lru_cache(maxsize=4096)
def parse_agent(user_agent: str) -> Agent:
    """Browser, platform and device of a user agent (empty when unknown)."""
    if not user_agent:
        return Agent()
    result = ua_parser.parse(user_agent)
    browser, system, device = result.user_agent, result.os, result.device
    platform = system.family if system else ""
    return Agent(
        browser=browser.family if browser else "",
        browser_version=_version(browser),
        platform=platform,
        platform_version=_version(system),
        device_type=_device_type(user_agent, platform, device.family if device else ""),
        device_brand=(device.brand or "") if device else "",
        device_model=(device.model or "") if device else "",
    )


def _device_type(user_agent: str, platform: str, device: str) -> str:
    """bot, tablet, smartphone or desktop, from uap-core's device and OS families and the usual tokens."""
    if device == "Spider":
        return "bot"
    if any(hint in device or hint in user_agent for hint in TABLET_HINTS) or (
        platform == "Android" and "Mobile" not in user_agent
    ):
        return "tablet"
    if platform in ("Android", "iOS") or "Mobile" in user_agent or "iPhone" in device:
        return "smartphone"
    if platform in DESKTOP_PLATFORMS:
        return "desktop"
    return ""


@lru_cache(maxsize=4)
def _geo_reader(path: str):
    try:
        return maxminddb.open_database(path)
    except (OSError, ValueError, maxminddb.InvalidDatabaseError):
        logger.error("SHORT_LINK_GEOIP_DATABASE %s cannot be read: visits are recorded without a place", path)
        return None


def _name(record: dict | None) -> str:
    return ((record or {}).get("names") or {}).get("en", "")


def locate(ip: str) -> Place:
    """Country, region and city of an address from the configured GeoIP database (empty without one)."""
    path = str(setting("SHORT_LINK_GEOIP_DATABASE") or "")
    reader = _geo_reader(path) if path else None
    if reader is None or not ip:
        return Place()
    try:
        record = reader.get(ipaddress.ip_address(ip)) or {}
    except ValueError:
        return Place()
    country = record.get("country") or {}
    subdivisions = record.get("subdivisions") or [{}]
    return Place(
        country=_name(country),
        country_code=(country.get("iso_code") or "")[:2],
        region=_name(subdivisions[0]),
        city=_name(record.get("city")),
    )


def find_short_link(code: str) -> ShortLink | None:
    """The short link of a code (with its smart link and account), or None; a code that cannot be one costs no
    query."""
    if not CODE_PATTERN.fullmatch(code or ""):
        return None
    return ShortLink.objects.select_related("link__account").filter(code=code).first()


def record_visit(short: ShortLink, *, user_agent: str, ip: str) -> LinkVisit:
    """The visit of a short URL, recorded with its `smartlink:visit` event in one transaction (on PostgreSQL
    without waiting for the disk: a crash right after it may lose the last visits, never half of one)."""
    user_agent = (user_agent or "")[:USER_AGENT_LIMIT]
    agent, place = parse_agent(user_agent), locate(ip)
    link = short.link
    visit = LinkVisit(
        account_id=link.account_id,
        link=link,
        short_link=short,
        recipient=short.recipient,
        user_agent=user_agent,
        **asdict(agent),
        **asdict(place),
    )
    with relaxed_durability():  # a visit is a statistic: its commit need not wait for the disk
        visit.save(force_insert=True)
        emit(link.account, VISIT_EVENT, visit_payload(visit, short), identity=link.sender_name or None)
    return visit


def visit_payload(visit: LinkVisit, short: ShortLink, *, zone=None) -> dict:
    """The `smartlink:visit` payload: the seed's fields, then the code, the target and the send."""
    link = short.link
    zone = zone or zone_of(link.account)
    return {
        "id": str(visit.uid),
        "link_id": str(link.uid),
        "user_agent": visit.user_agent,
        "browser": visit.browser,
        "browser_version": visit.browser_version,
        "platform": visit.platform,
        "platform_version": visit.platform_version,
        "device_type": visit.device_type,
        "device_brand": visit.device_brand,
        "device_model": visit.device_model,
        "country": visit.country,
        "country_code": visit.country_code,
        "region": visit.region,
        "city": visit.city,
        "mobile": visit.recipient,
        "created_at": visit.created_at.astimezone(zone).isoformat(" ", "seconds")[:19],
        "code": short.code,
        "url": short.destination,
        "message_id": str(short.message_uid),
        "group_id": str(link.group_id),
        "campaign_id": str(link.group_id) if link.campaign_id else None,
        "timestamp": timezone.now().isoformat(),
    }


def sample_visit() -> tuple[LinkVisit, ShortLink]:
    """A visit as a test event shows it (never saved)."""
    link = SmartLink(
        uid=uuid.UUID("6a0d2f4e-8c1b-4b7a-9e3d-5f2a7c9b1e40"),
        group_id=uuid.UUID("5f0c3c1e-7d43-4b7e-9f51-2a2a9f0c1d11"),
        position=1,
        target_url="https://shop.example.com/sale",
        campaign_id=1,
    )
    short = ShortLink(
        code="aZ3kP9qX",
        link=link,
        message_uid=uuid.UUID("b34e35ad-fe34-4a8b-977c-b21cd76cd7d6"),
        recipient="+918921269000",
    )
    user_agent = (
        "Mozilla/5.0 (Linux; Android 13; Redmi Note 12) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/119.0.6045.163 Mobile Safari/537.36"
    )
    agent = Agent("Chrome Mobile", "119.0.6045", "Android", "13", "smartphone", "XiaoMi", "Redmi Note 12")
    place = Place("India", "IN", "Karnataka", "Bangalore")
    visit = LinkVisit(
        uid=uuid.UUID("0b8e4c2a-6d1f-4e3b-a5c7-9d2f1b3e5a70"),
        recipient=short.recipient,
        user_agent=user_agent,
        created_at=datetime(2021, 4, 9, 10, 57, 39, tzinfo=UTC),
        **asdict(agent),
        **asdict(place),
    )
    return visit, short


def visit_event_type() -> EventType:
    visit, short = sample_visit()
    return EventType(
        VISIT_EVENT,
        "A recipient followed a smart link (short URL)",
        sample_payload=visit_payload(visit, short, zone=SAMPLE_ZONE),
    )
