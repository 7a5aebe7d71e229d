"""`manage.py webhook_receiver` prints deliveries and says whether their signature verifies."""

import io
import time

from django.core.management import call_command

from portal.management.commands.webhook_receiver import Command, verification
from portal.webhooks import signing

BODY = b'{"event":"webhook:ping","id":"e1","timestamp":1,"payload":{}}'


def signed(secret: str) -> dict[str, str]:
    return signing.signed_headers([secret], "e1", int(time.time()), BODY)


def test_verification_accepts_the_right_secret_and_names_the_problem_otherwise():
    secret = signing.generate_secret()
    assert verification(secret, BODY, signed(secret)) == "signature ok"
    assert verification(signing.generate_secret(), BODY, signed(secret)).startswith("INVALID SIGNATURE")
    assert verification(secret, BODY, {}).startswith("NOT SIGNED")
    assert verification(None, BODY, signed(secret)).startswith("signature not checked")


def test_report_prints_headers_body_and_outcome():
    secret = signing.generate_secret()
    out = io.StringIO()
    command = Command(stdout=out)
    command.report("POST", "/in", signed(secret), BODY, [secret])
    text = out.getvalue()
    assert "POST /in — signature ok" in text
    assert "webhook-id: e1" in text
    assert '"event": "webhook:ping"' in text


def test_unknown_webhook_id_is_a_command_error(db):
    import pytest
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No webhook"):
        call_command("webhook_receiver", "--webhook", "00000000-0000-0000-0000-000000000000")
