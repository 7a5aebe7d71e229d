"""Who may scrape /metrics: a request with `Authorization: Bearer <METRICS_TOKEN>`, or one from an address of
METRICS_ALLOWED_IPS (addresses or CIDRs; the client address portal.middleware.ClientIpMiddleware computes). With
neither setting, loopback only. Anyone else gets the site's 404, as if there were no such page."""

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def allowed_networks(entries: tuple[str, ...]) -> tuple[IpNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as exc:
        raise ImproperlyConfigured(f"METRICS_ALLOWED_IPS: {exc}") from None


def client_address(raw: str) -> IpAddress | None:
    """The address as ipaddress sees it (an IPv4-mapped IPv6 address as IPv4), None when it is none."""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def bearer_token(request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def may_scrape(request) -> bool:
    token = settings.METRICS_TOKEN
    networks = allowed_networks(tuple(settings.METRICS_ALLOWED_IPS))
    offered = bearer_token(request)
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    address = client_address(request.client_ip)
    if address is None:
        return False
    if not token and not networks:
        return address.is_loopback
    return any(address.version == network.version and address in network for network in networks)
