"""One webhook attempt against a real HTTP receiver on 127.0.0.1."""

import ipaddress
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from portal.webhooks import ssrf, transport
from tests.support.http_receiver import Reply

LOCAL = ssrf.Policy.from_strings(["127.0.0.0/8"])


def post(url, body=b'{"a": 1}', **kwargs):
    request = transport.OutgoingRequest("POST", url, {"Content-Type": "application/json"}, body)
    return transport.send(request, policy=LOCAL, **kwargs)


def test_2xx_is_success_and_the_request_arrives_intact(live_http_receiver):
    live_http_receiver.default = Reply(202, body=b"accepted")
    result = post(live_http_receiver.url("/hook?x=1"))
    assert result.succeeded and result.status_code == 202
    assert result.response_excerpt == "accepted"
    (received,) = live_http_receiver.requests
    assert (received.method, received.path, received.query) == ("POST", "/hook", {"x": ["1"]})
    assert received.json() == {"a": 1}
    assert received.headers["user-agent"] == transport.USER_AGENT
    assert received.headers["content-type"] == "application/json"


def test_no_answer_within_the_timeout_is_a_failure(live_http_receiver):
    live_http_receiver.default = Reply(200, delay=1.5)
    result = post(live_http_receiver.url(), timeout=0.3)
    assert not result.succeeded
    assert result.status_code is None
    assert "No answer within 0.3 s" in result.error
    assert result.duration_ms < 1200


def test_redirect_is_not_followed_and_counts_as_failure(live_http_receiver):
    live_http_receiver.respond(Reply(302, headers={"Location": live_http_receiver.url("/elsewhere")}))
    result = post(live_http_receiver.url("/hook"))
    assert not result.succeeded and result.status_code == 302
    assert "not followed" in result.error
    assert [r.path for r in live_http_receiver.requests] == ["/hook"]


def test_410_is_reported_as_such(live_http_receiver):
    live_http_receiver.respond(Reply(410, body=b"gone for good"))
    result = post(live_http_receiver.url())
    assert (result.succeeded, result.status_code, result.error) == (False, 410, "HTTP 410")
    assert result.response_excerpt == "gone for good"


def test_429_retry_after_seconds_is_parsed(live_http_receiver):
    live_http_receiver.respond(Reply(429, headers={"Retry-After": "120"}))
    result = post(live_http_receiver.url())
    assert result.status_code == 429 and result.retry_after == 120.0


def test_503_retry_after_http_date_is_parsed(live_http_receiver):
    when = datetime.now(UTC) + timedelta(seconds=300)
    live_http_receiver.respond(Reply(503, headers={"Retry-After": format_datetime(when, usegmt=True)}))
    result = post(live_http_receiver.url())
    assert result.status_code == 503 and 295 <= result.retry_after <= 301


def test_response_excerpt_is_bounded(live_http_receiver):
    live_http_receiver.default = Reply(500, body=b"x" * 100_000)
    result = post(live_http_receiver.url())
    assert len(result.response_excerpt) == transport.EXCERPT_BYTES


def test_connection_refused_is_a_failure_not_an_exception(live_http_receiver):
    url = live_http_receiver.url()
    live_http_receiver.stop()
    result = post(url)
    assert result.status_code is None and result.error.startswith("Connection failed")


def test_connects_to_the_checked_address_with_the_hostname_in_host_header(live_http_receiver):
    """The host is resolved once; a resolver that would now answer differently is never asked again."""
    answers = iter([[ipaddress.ip_address("127.0.0.1")], [ipaddress.ip_address("169.254.169.254")]])
    calls = []

    def rebinding_resolver(host, port):
        calls.append(host)
        return next(answers)

    result = post(f"http://hooks.example.test:{live_http_receiver.port}/in", resolver=rebinding_resolver)
    assert result.succeeded and result.address == "127.0.0.1"
    assert calls == ["hooks.example.test"]
    assert live_http_receiver.requests[0].headers["host"] == f"hooks.example.test:{live_http_receiver.port}"


def test_refused_url_makes_no_request(live_http_receiver):
    result = transport.send(transport.OutgoingRequest("POST", live_http_receiver.url()), policy=ssrf.Policy())
    assert result.error.startswith("Refused:") and "loopback" in result.error
    assert live_http_receiver.requests == []


@pytest.mark.parametrize(("given", "expected"), [(None, 3.0), (0, 0.1), (10, 10.0), (120, 30.0)])
def test_timeout_is_clamped(given, expected):
    assert transport.clamp_timeout(given) == expected


@pytest.mark.parametrize("value", [None, "", "soon", "-5"])
def test_unusable_retry_after_is_ignored(value):
    assert transport.parse_retry_after(value) is None


def test_pool_keeps_the_connection_alive_between_attempts(live_http_receiver):
    with transport.ConnectionPool() as pool:
        for _ in range(3):
            assert post(live_http_receiver.url(), pool=pool).succeeded
    assert len(live_http_receiver.requests) == 3
    assert len(live_http_receiver.ports) == 1


def test_pool_recovers_when_the_server_closed_the_idle_connection(live_http_receiver):
    with transport.ConnectionPool() as pool:
        assert post(live_http_receiver.url(), pool=pool).succeeded
        port = live_http_receiver.port
        live_http_receiver.stop()
        live_http_receiver.port = port
        live_http_receiver.start()
        assert post(live_http_receiver.url(), pool=pool).succeeded
    assert len(live_http_receiver.requests) == 2 and len(live_http_receiver.ports) == 2


def test_pool_does_not_keep_a_connection_the_server_closes(live_http_receiver):
    live_http_receiver.default = Reply(200, headers={"Connection": "close"})
    with transport.ConnectionPool() as pool:
        assert post(live_http_receiver.url(), pool=pool).succeeded
        assert post(live_http_receiver.url(), pool=pool).succeeded
    assert len(live_http_receiver.ports) == 2


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS receiver with a self-signed certificate for hooks.example.test; yields it, the client context
    trusting that certificate, and the server names (SNI) clients asked for."""
    pytest.importorskip("cryptography")
    import ssl

    from tests.support.http_receiver import HttpReceiver
    from tests.support.tls import self_signed_certificate

    cert_path, key_path = self_signed_certificate(tmp_path, "hooks.example.test")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    server_names = []
    server_context.sni_callback = lambda sock, name, context: server_names.append(name)
    client_context = ssl.create_default_context(cafile=str(cert_path))
    receiver = HttpReceiver(tls=server_context).start()
    yield receiver, client_context, server_names
    receiver.stop()


def local_resolver(host, port):
    return [ipaddress.ip_address("127.0.0.1")]


def test_https_to_the_checked_address_uses_sni_and_verifies_the_hostname(tls_receiver):
    receiver, client_context, server_names = tls_receiver
    url = f"https://hooks.example.test:{receiver.port}/in"
    result = post(url, resolver=local_resolver, ssl_context=client_context)
    assert result.succeeded, result.error
    assert server_names == ["hooks.example.test"]
    assert receiver.requests[0].headers["host"] == f"hooks.example.test:{receiver.port}"


def test_https_certificate_for_another_name_is_refused(tls_receiver):
    receiver, client_context, _ = tls_receiver
    result = post(f"https://other.example.test:{receiver.port}/in", resolver=local_resolver, ssl_context=client_context)
    assert not result.succeeded and "certificate" in result.error.lower()
    assert receiver.requests == []
