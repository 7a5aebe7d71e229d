"""A server restart in the middle of a window of submits loses no message and stores none twice: every submit
answered ESME_ROK names one stored message, every other one is submitted again after the client binds anew."""

import contextlib
import threading
import time

import pytest
import smpplib.exceptions

from campaigns.models import Message
from campaigns.smpp_gateway.credentials import issue_credential
from tests.support.smpp_gateway import esme, ready_to_send, running_gateway

pytestmark = pytest.mark.django_db(transaction=True)

NUMBERS = [f"9198765{n:05d}" for n in range(300)]


@pytest.fixture(autouse=True)
def _setup(settings, account):
    ready_to_send(settings, account, balance="50")


def _bind(port: int, password: str, deadline: float):
    while True:
        try:
            return esme(port, "acme", password)
        except (ConnectionError, OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _drain(client, pending: dict[int, str], accepted: dict[str, str]) -> bool:
    """Read answers until the socket is quiet; False when the server unbound or closed the connection."""
    client.client._socket.settimeout(0.05)
    while True:
        try:
            pdu = client.client.read_pdu()
        except TimeoutError:
            return True
        except (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError):
            return False
        if pdu.command == "unbind":
            with contextlib.suppress(OSError, smpplib.exceptions.ConnectionError):
                client.client._socket.settimeout(3)
                while True:  # the answers still on their way come before the server closes
                    late = client.client.read_pdu()
                    if late.command == "submit_sm_resp":
                        _record(late, pending, accepted)
            return False
        if pdu.command == "submit_sm_resp":
            _record(pdu, pending, accepted)


def _record(pdu, pending: dict[int, str], accepted: dict[str, str]) -> None:
    number = pending.pop(pdu.sequence, None)
    if number is not None and pdu.status == 0:
        accepted[number] = pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else pdu.message_id


def test_a_graceful_restart_mid_window_loses_and_doubles_nothing(account):
    issued = issue_credential(account, system_id="acme", window=50, throughput=1000)
    accepted: dict[str, str] = {}
    with running_gateway() as gateway:
        deadline = time.monotonic() + 90
        restarter = threading.Timer(0.4, gateway.restart)
        restarter.start()
        restarts = 0
        while len(accepted) < len(NUMBERS):
            assert time.monotonic() < deadline, f"{len(accepted)} of {len(NUMBERS)} accepted"
            client = _bind(gateway.port, issued.password, deadline)
            pending: dict[int, str] = {}
            alive = True
            for number in (n for n in NUMBERS if n not in accepted):
                while len(pending) >= 40 and alive:
                    alive = _drain(client, pending, accepted)
                if not alive:
                    break
                try:
                    pending[client.send("ACMERT", number, "Your Acme order is ready")[0]] = number
                except (OSError, smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError):
                    break
            while pending and alive:
                alive = _drain(client, pending, accepted)
            restarts += not alive
            client.close()
        restarter.join()
    assert restarts >= 1, "the restart did not happen mid-window"
    stored = dict(Message.objects.values_list("recipient", "uid"))
    assert len(stored) == Message.objects.count() == len(NUMBERS)
    assert {f"+{number}": message_id for number, message_id in accepted.items()} == {
        recipient: str(uid) for recipient, uid in stored.items()
    }
