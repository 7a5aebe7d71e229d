"""Standard Webhooks signatures: what we sign, the `standardwebhooks` package verifies."""

import base64
import time

import pytest
from standardwebhooks.webhooks import Webhook as StandardWebhook
from standardwebhooks.webhooks import WebhookVerificationError

from portal.webhooks import signing

BODY = b'{"event":"webhook:ping","id":"evt_1","timestamp":1700000000,"payload":{}}'


def test_generated_secret_is_whsec_base64_of_24_bytes():
    secret = signing.generate_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert secret != signing.generate_secret()


def test_standardwebhooks_verifies_our_signature():
    secret = signing.generate_secret()
    now = int(time.time())
    headers = signing.signed_headers([secret], "evt_1", now, BODY)
    assert StandardWebhook(secret).verify(BODY, headers) == {
        "event": "webhook:ping",
        "id": "evt_1",
        "timestamp": 1700000000,
        "payload": {},
    }


def test_signature_matches_the_reference_implementation_byte_for_byte():
    secret = signing.generate_secret()
    from datetime import UTC, datetime

    reference = StandardWebhook(secret).sign("msg_42", datetime.fromtimestamp(1700000000, UTC), BODY.decode())
    assert signing.sign(secret, "msg_42", 1700000000, BODY) == reference


def test_tampered_body_or_other_secret_fails_verification():
    secret = signing.generate_secret()
    headers = signing.signed_headers([secret], "evt_1", int(time.time()), BODY)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(secret).verify(BODY.replace(b"ping", b"pong"), headers)
    with pytest.raises(WebhookVerificationError):
        StandardWebhook(signing.generate_secret()).verify(BODY, headers)


def test_rotation_overlap_sends_both_signatures_and_each_secret_verifies():
    old, new = signing.generate_secret(), signing.generate_secret()
    headers = signing.signed_headers([new, old], "evt_1", int(time.time()), BODY)
    assert len(headers["webhook-signature"].split(" ")) == 2
    StandardWebhook(old).verify(BODY, headers)
    StandardWebhook(new).verify(BODY, headers)


def test_plain_text_secret_becomes_whsec_form_usable_by_receivers():
    secret = signing.normalize_secret("a-long-enough-shared-secret")
    assert secret == "whsec_" + base64.b64encode(b"a-long-enough-shared-secret").decode()
    headers = signing.signed_headers([secret], "evt_1", int(time.time()), BODY)
    StandardWebhook(secret).verify(BODY, headers)


@pytest.mark.parametrize("bad", ["short", "whsec_not base64!", "whsec_" + base64.b64encode(b"x" * 8).decode()])
def test_unusable_secrets_are_refused(bad):
    with pytest.raises(signing.InvalidSecret):
        signing.normalize_secret(bad)


def test_signing_without_any_secret_is_an_error():
    with pytest.raises(signing.InvalidSecret):
        signing.signature_header([], "evt_1", 1, BODY)
