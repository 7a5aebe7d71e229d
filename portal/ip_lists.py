"""IP allow-lists (API tokens, SMPP credentials): cleaning what a user typed, and matching an address."""

import ipaddress

from django.core.exceptions import ValidationError


def clean_allowed_ips(entries) -> list[str]:
    """Validate IPs and CIDRs; raises ValidationError naming the bad entry."""
    if isinstance(entries, str):
        entries = entries.replace("\n", ",").split(",")
    cleaned = []
    for entry in entries or []:
        entry = str(entry).strip()
        if not entry:
            continue
        try:
            cleaned.append(str(ipaddress.ip_network(entry, strict=False)))
        except ValueError:
            raise ValidationError(f"{entry!r} is not an IP address or CIDR range.") from None
    return cleaned


def ip_allowed(entries: list[str], ip: str | None) -> bool:
    """True when the list is empty (any address) or the address (IPv4-mapped IPv6 as IPv4) is in one entry."""
    if not entries:
        return True
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(entry, strict=False) for entry in entries)
