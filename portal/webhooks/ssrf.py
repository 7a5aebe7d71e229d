"""SSRF guard for webhook URLs: public http(s) addresses only, checked once and then connected to directly.

`check_url` parses the URL, resolves the host once and refuses it when any A/AAAA address is loopback,
private, link-local, CGNAT, multicast, unspecified, reserved or a cloud metadata endpoint (IPv4-mapped,
NAT64 and 6to4 IPv6 forms are judged by the IPv4 address they carry). `connection_for` opens the HTTP(S)
connection to those checked addresses (no second DNS lookup, so no DNS rebinding) while the Host header,
TLS SNI and certificate check still use the hostname. A `Policy` lets development and tests reach listed
networks and ports; metadata addresses stay refused whatever it says. Every other refusal of a non-public
address says which setting (WEBHOOK_ALLOWED_CIDRS, WEBHOOK_ALLOWED_PORTS) would let a development receiver in.
"""

import http.client
import ipaddress
import re
import socket
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[IPAddress]]

DEFAULT_PORTS = {"http": 80, "https": 443}
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure wire server
    )
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
HOST_CHARACTERS = re.compile(r"^[a-z0-9._-]+$")
IPV4_NUMBER_FORMS = {8: re.compile(r"^[0-7]+$"), 10: re.compile(r"^[0-9]+$"), 16: re.compile(r"^[0-9a-f]*$")}


class UnsafeURL(ValueError):
    """The URL may not be called: bad scheme or host, or it reaches an address that is not public."""


@dataclass(frozen=True)
class Policy:
    """Exceptions for development and tests: these networks (and, when given, only these ports) are allowed."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_ports: frozenset[int] | None = None

    @classmethod
    def from_strings(cls, cidrs: Iterable[str] = (), ports: Iterable[str | int] = ()) -> "Policy":
        networks = tuple(ipaddress.ip_network(str(cidr).strip(), strict=False) for cidr in cidrs if str(cidr).strip())
        port_set = frozenset(_expand_ports(ports))
        return cls(allowed_networks=networks, allowed_ports=port_set or None)

    @property
    def enabled(self) -> bool:
        return bool(self.allowed_networks)

    def covers(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allowed_networks if network.version == address.version)

    def allows(self, address: IPAddress, port: int) -> bool:
        return self.covers(address) and (self.allowed_ports is None or port in self.allowed_ports)


def _expand_ports(ports: Iterable[str | int]) -> Iterable[int]:
    for entry in ports:
        text = str(entry).strip()
        if not text:
            continue
        low, _, high = text.partition("-")
        first, last = int(low), int(high or low)
        if not 0 < first <= last <= 65535:
            raise ValueError(f"{text!r} is not a port or port range")
        yield from range(first, last + 1)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (addresses) and what to say (host, request target)."""

    scheme: str
    host: str
    port: int
    request_target: str
    addresses: tuple[IPAddress, ...]


@dataclass(frozen=True)
class _SplitURL:
    scheme: str
    host: str
    port: int
    request_target: str


def split_url(url: str) -> _SplitURL:
    """Scheme, ASCII host, port and path+query of an http(s) URL; UnsafeURL for anything else."""
    if not isinstance(url, str) or not url or any(ord(ch) <= 0x20 or ch == "\\" for ch in url):
        raise UnsafeURL("The URL must be an absolute http:// or https:// address without spaces.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeURL("Only http:// and https:// URLs are allowed.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("Credentials in the URL are not allowed; send them in a header instead.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port is None:
        port = DEFAULT_PORTS[scheme]
    if not 0 < port <= 65535:
        raise UnsafeURL("The URL's port is not a number from 1 to 65535.")
    host = _ascii_host(parts.hostname)
    request_target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _SplitURL(scheme=scheme, host=host, port=port, request_target=request_target)


def _ascii_host(hostname: str) -> str:
    if ":" in hostname:
        return hostname
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UnsafeURL(f"{hostname!r} is not a valid host name.") from None
    if not HOST_CHARACTERS.match(host):
        raise UnsafeURL(f"{hostname!r} is not a valid host name.")
    return host


def _ipv4_number(part: str) -> int | None:
    base, digits = 10, part
    if part[:2] in ("0x", "0X"):
        base, digits = 16, part[2:]
    elif len(part) > 1 and part.startswith("0"):
        base, digits = 8, part[1:]
    if not IPV4_NUMBER_FORMS[base].match(digits.lower()):
        return None
    return int(digits, base) if digits else 0


def _ends_in_number(labels: list[str]) -> bool:
    last = labels[-1]
    return last.isdigit() or (last[:2].lower() == "0x" and all(c in "0123456789abcdef" for c in last[2:].lower()))


def parse_ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """An IPv4 address written any way a URL parser accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`), else None."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels = labels[:-1]
    if not labels or not labels[-1] or not _ends_in_number(labels):
        return None
    numbers = [_ipv4_number(label) if label else None for label in labels]
    if len(labels) > 4 or any(number is None for number in numbers):
        raise UnsafeURL(f"{host!r} is not a valid IPv4 address.")
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):
        raise UnsafeURL(f"{host!r} is not a valid IPv4 address.")
    value = last + sum(number << (8 * (3 - index)) for index, number in enumerate(leading))
    return ipaddress.IPv4Address(value)


def ip_literal(host: str) -> IPAddress | None:
    """The address when the host is an IP literal (IPv6, or IPv4 in any accepted form)."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host)
        except ValueError:
            raise UnsafeURL(f"{host!r} is not a valid IPv6 address.") from None
    return parse_ipv4_literal(host)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 IPv6 address stands for."""
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in NAT64_WELL_KNOWN:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def blocked_reason(address: IPAddress) -> str | None:
    """Why an address is not public (None when it is)."""
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.version == 6:
        inner = embedded_ipv4(address)
        if inner is not None:
            reason = blocked_reason(inner)
            return f"an IPv6 form of {inner}, {reason}" if reason else None
        if address in NAT64_LOCAL_USE:
            return "a local-use NAT64 address"
    checks = [
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.version == 4 and address in CGNAT, "a carrier-grade NAT address (100.64.0.0/10)"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private network address"),
        (address.is_reserved, "a reserved address"),
        (address.version == 6 and address.is_site_local, "a site-local address"),
        (not address.is_global, "not a publicly routable address"),
    ]
    return next((reason for matched, reason in checks if matched), None)


def _comparable(address: IPAddress) -> IPAddress:
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_metadata(address: IPAddress) -> bool:
    """A cloud metadata endpoint, written directly or in an IPv6 form: never callable, whatever the policy."""
    inner = embedded_ipv4(address) if address.version == 6 else None
    return address in METADATA_ADDRESSES or inner in METADATA_ADDRESSES


def refusal(address: IPAddress, port: int, policy: Policy) -> str | None:
    """Why this address may not be called under the policy (None when it may)."""
    if is_metadata(address):
        return "a cloud metadata address"
    reason = blocked_reason(address)
    if reason and policy.allows(_comparable(address), port):
        return None
    return reason


def _allow_hint(address: IPAddress, port: int, policy: Policy) -> str:
    """How development lets this refused address through (nothing for metadata addresses, which stay refused)."""
    if is_metadata(address):
        return ""
    listed = _comparable(address)
    if policy.covers(listed):
        return f" (port {port} is not in WEBHOOK_ALLOWED_PORTS)"
    example = "127.0.0.0/8" if listed.version == 4 and listed.is_loopback else str(ipaddress.ip_network(listed))
    return f" (for a local receiver in development, set WEBHOOK_ALLOWED_CIDRS, e.g. {example}, with DEBUG=1)"


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every A/AAAA address of the host, in resolver order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnsafeURL(f"The host {host} could not be resolved ({exc}).") from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def check_url(url: str, *, policy: Policy | None = None, resolver: Resolver | None = None) -> Target:
    """Validate the URL and resolve its host once; UnsafeURL names the first refused address."""
    policy = policy or Policy()
    parts = split_url(url)
    literal = ip_literal(parts.host)
    addresses = [literal] if literal is not None else (resolver or resolve)(parts.host, parts.port)
    if not addresses:
        raise UnsafeURL(f"The host {parts.host} has no address.")
    for address in addresses:
        reason = refusal(address, parts.port, policy)
        if reason:
            shown = parts.host if literal is not None and str(literal) == parts.host else f"{parts.host} ({address})"
            hint = _allow_hint(address, parts.port, policy)
            raise UnsafeURL(f"{shown} is {reason}; webhooks can only call public internet addresses{hint}.")
    return Target(
        scheme=parts.scheme,
        host=parts.host,
        port=parts.port,
        request_target=parts.request_target,
        addresses=tuple(addresses),
    )


def _connect_any(addresses: tuple[IPAddress, ...], port: int, timeout: float) -> socket.socket:
    last_error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((str(address), port), timeout=timeout)
        except OSError as exc:
            last_error = exc
    raise last_error or OSError("no address to connect to")


class PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to the checked addresses; the Host header still names the host."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.addresses = target.addresses

    def connect(self) -> None:
        self.sock = _connect_any(self.addresses, self.port, self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to the checked addresses, with SNI and certificate verification for the host name."""

    def __init__(self, target: Target, timeout: float, context: ssl.SSLContext | None = None):
        super().__init__(target.host, target.port, timeout=timeout, context=context or ssl.create_default_context())
        self.addresses = target.addresses

    def connect(self) -> None:
        sock = _connect_any(self.addresses, self.port, self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def connection_for(target: Target, timeout: float, context: ssl.SSLContext | None = None) -> http.client.HTTPConnection:
    """An unopened connection that will go to the target's checked addresses only."""
    if target.scheme == "https":
        return PinnedHTTPSConnection(target, timeout, context)
    return PinnedHTTPConnection(target, timeout)
