"""The SSRF guard refuses every non-public address before any connection is made."""

import ipaddress
import socket

import pytest

from portal.webhooks import ssrf


@pytest.fixture(autouse=True)
def no_connections(monkeypatch):
    """Any attempt to open a socket fails the test: refusals must happen before connecting."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a connection was attempted: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)


def fixed_resolver(*addresses):
    calls = []

    def resolver(host, port):
        calls.append((host, port))
        return [ipaddress.ip_address(a) for a in addresses]

    resolver.calls = calls
    return resolver


REFUSED_URLS = [
    "http://127.0.0.1/",
    "http://127.1/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0177.0.0.1/",
    "http://017700000001/",
    "http://localhost./",
    "http://0.0.0.0/",
    "http://0/",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1:8080/",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://169.254.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.2.10/",
    "http://198.18.0.1/",
    "http://[::1]/",
    "http://[::]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.1.2.3]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b:1::1]/",
    "http://[2002:7f00:1::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd00:ec2::254]/",
    "http://[fec0::1]/",
    "http://[ff02::1]/",
    "http://[2001:db8::1]/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_non_public_addresses_are_refused_without_a_connection(url):
    resolver = fixed_resolver("127.0.0.1")
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check_url(url, resolver=resolver)


def test_localhost_name_is_resolved_once_and_refused():
    resolver = fixed_resolver("127.0.0.1", "::1")
    with pytest.raises(ssrf.UnsafeURL, match=r"localhost \(127\.0\.0\.1\) is a loopback address"):
        ssrf.check_url("http://localhost:8000/hook", resolver=resolver)
    assert resolver.calls == [("localhost", 8000)]


def test_hostname_resolving_to_a_private_address_is_refused():
    with pytest.raises(ssrf.UnsafeURL, match="private network"):
        ssrf.check_url("https://hooks.example.com/x", resolver=fixed_resolver("10.20.30.40"))


def test_one_private_address_among_public_ones_is_enough_to_refuse():
    resolver = fixed_resolver("93.184.216.34", "2606:2800:220:1::1", "192.168.0.10")
    with pytest.raises(ssrf.UnsafeURL, match=r"192\.168\.0\.10"):
        ssrf.check_url("https://mixed.example.com/", resolver=resolver)


def test_public_host_is_accepted_with_every_checked_address():
    resolver = fixed_resolver("93.184.216.34", "2606:2800:220:1::1")
    target = ssrf.check_url("https://Hooks.Example.com:8443/in?a=1", resolver=resolver)
    assert target.host == "hooks.example.com"
    assert target.port == 8443
    assert target.request_target == "/in?a=1"
    assert [str(a) for a in target.addresses] == ["93.184.216.34", "2606:2800:220:1::1"]


def test_public_ip_literal_is_not_resolved():
    resolver = fixed_resolver("10.0.0.1")
    target = ssrf.check_url("http://8.8.8.8/", resolver=resolver)
    assert target.addresses == (ipaddress.ip_address("8.8.8.8"),)
    assert resolver.calls == []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "http:///nohost",
        "http://user:pass@example.com/",
        "http://example.com:0/",
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://evil.com\\@127.0.0.1/",
        "http://1.2.3.4.5/",
        "http://256.1.1.1/",
        "http://0x1g.0.0.1/",
        "http://%31%32%37.0.0.1/",
        "",
    ],
)
def test_malformed_or_non_http_urls_are_refused(url):
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check_url(url, resolver=fixed_resolver("93.184.216.34"))


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.65535", "10.1.255.255"),
        ("0xA9.0xFE.0xA9.0xFE", "169.254.169.254"),
        ("example.com", None),
    ],
)
def test_ipv4_literal_forms(host, expected):
    result = ssrf.parse_ipv4_literal(host)
    assert (str(result) if result else None) == expected


def test_allow_list_admits_listed_network_and_port_only():
    policy = ssrf.Policy.from_strings(["127.0.0.0/8"], ["8000-8002"])
    assert ssrf.check_url("http://127.0.0.1:8001/", policy=policy).port == 8001
    assert ssrf.check_url("http://[::ffff:127.0.0.1]:8000/", policy=policy).port == 8000
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check_url("http://127.0.0.1:9000/", policy=policy)
    with pytest.raises(ssrf.UnsafeURL):
        ssrf.check_url("http://10.0.0.1:8000/", policy=policy)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/", "http://[fd00:ec2::254]/", "http://[::ffff:169.254.169.254]/"]
)
def test_metadata_addresses_stay_refused_even_when_allow_listed(url):
    policy = ssrf.Policy.from_strings(["0.0.0.0/0", "::/0"])
    with pytest.raises(ssrf.UnsafeURL, match="metadata"):
        ssrf.check_url(url, policy=policy)


def test_unresolvable_host_is_refused_with_a_clear_message(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    with pytest.raises(ssrf.UnsafeURL, match="could not be resolved"):
        ssrf.check_url("https://no-such-host.invalid/")


LOCAL_RECEIVER_HINT = "set WEBHOOK_ALLOWED_CIDRS, e.g. {}, with DEBUG=1)"


@pytest.mark.parametrize(
    ("url", "addresses", "example"),
    [
        ("http://127.0.0.1:8765/in", (), "127.0.0.0/8"),
        ("http://localhost:8765/in", ("127.0.0.1",), "127.0.0.0/8"),
        ("https://hooks.example.com/x", ("10.20.30.40",), "10.20.30.40/32"),
        ("http://[::1]:8765/", (), "::1/128"),
        ("http://[::ffff:192.168.1.5]/", (), "192.168.1.5/32"),
    ],
)
def test_non_public_refusal_names_the_development_allow_list(url, addresses, example):
    with pytest.raises(ssrf.UnsafeURL) as refused:
        ssrf.check_url(url, resolver=fixed_resolver(*addresses))
    assert str(refused.value).endswith(LOCAL_RECEIVER_HINT.format(example) + ".")
    assert "webhooks can only call public internet addresses (for a local receiver in development" in str(refused.value)


def test_refusal_under_an_allow_list_that_covers_the_network_names_the_port_setting():
    policy = ssrf.Policy.from_strings(["127.0.0.0/8"], ["8000-8002"])
    with pytest.raises(ssrf.UnsafeURL, match=r"\(port 9000 is not in WEBHOOK_ALLOWED_PORTS\)\.$"):
        ssrf.check_url("http://127.0.0.1:9000/", policy=policy)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/", "http://[::ffff:169.254.169.254]/", "http://[fd00:ec2::254]/"]
)
@pytest.mark.parametrize("cidrs", [(), ("0.0.0.0/0", "::/0")])
def test_metadata_refusal_never_suggests_an_allow_list(url, cidrs):
    with pytest.raises(ssrf.UnsafeURL) as refused:
        ssrf.check_url(url, policy=ssrf.Policy.from_strings(cidrs))
    message = str(refused.value)
    assert "a cloud metadata address; webhooks can only call public internet addresses." in message
    assert "WEBHOOK_ALLOWED" not in message and "DEBUG" not in message
