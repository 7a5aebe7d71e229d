"""`manage.py webhook_receiver` prints deliveries and says whether their signature verifies."""

import io
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from portal.management.commands.webhook_receiver import Command, challenge_answer, verification
from portal.webhooks import signing

ROOT = Path(__file__).resolve().parents[2]
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
    with pytest.raises(CommandError, match="No webhook"):
        call_command("webhook_receiver", "--webhook", "00000000-0000-0000-0000-000000000000")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def receiver_command():
    """`manage.py webhook_receiver` as a real process on a free port, answering the handshake for one key."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "webhook_receiver", "--port", str(port), "--validation-key", "k-123456"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/hooks"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_receiver_answers_the_verification_handshake_of_a_real_webhook(api, settings, receiver_command):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    client = api()
    created = client.post("/api/v2/webhooks", {"name": "Local", "uri": receiver_command, "token": "k-123456"})
    assert created.status_code == 201, created.json()
    verified = client.post(f"/api/v2/webhooks/{created.json()['data']['id']}/verify")
    assert verified.status_code == 200, verified.json()
    assert verified.json()["data"]["verification"] == "verified"


def test_the_receiver_refuses_a_handshake_for_another_key():
    assert challenge_answer(b'{"validation_key": "other", "challenge": "c1"}', "k-123456")[0] == 403
    assert challenge_answer(b'{"validation_key": "any", "challenge": "c1"}', None) == (200, b'{"challenge": "c1"}')
    assert challenge_answer(BODY, None) is None and challenge_answer(b"not json", None) is None
