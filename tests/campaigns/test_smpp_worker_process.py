"""`manage.py smpp_worker` as real processes on PostgreSQL against the node-smpp peer: two workers split a
connector's binds and send every message exactly once; SIGTERM stops claiming, unbinds and gives the slots back."""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from campaigns.models import Connector, Message, SmppBind
from campaigns.routing import set_catch_all
from campaigns.states import MessageState
from tests.campaigns.sending_support import approved_sender, prices
from tests.support.smpp_peer import running_peer
from tests.support.smpp_worker_thread import wait_until
from tests.support.worker import ROOT, database_url_for_tests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


def start_worker(*args) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=database_url_for_tests(), DJANGO_SETTINGS_MODULE="portal.settings")
    env.update(SECURE_SSL_REDIRECT="0", DEBUG="0")
    command = [sys.executable, "manage.py", "smpp_worker", "--grace", "5", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    return output


@pytest.fixture
def sending(settings, account):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices("ENT", GB="0.04")
    account.balance = Decimal("100")
    account.save()
    approved_sender(account, name="ACMEUK", country="GB", service="ENT")


def smpp_connector(peer, **config) -> Connector:
    base = {"host": "127.0.0.1", "port": peer.port, "system_id": "test", "binds": 2, "window": 20}
    connector = Connector.objects.create(name="Upstream", kind="smpp", config=base | config, secret="secret")
    set_catch_all(connector)
    return connector


def test_two_workers_split_the_binds_and_send_each_message_once(api, sending):
    numbers = [f"+4474005{index:05d}" for index in range(400)]
    with running_peer() as peer:
        connector = smpp_connector(peer)
        workers = [start_worker("--binds", "1"), start_worker("--binds", "1")]
        try:
            wait_until(
                lambda: SmppBind.objects.filter(connector=connector, state="bound").count() == 2,
                timeout=30,
                message="two binds",
            )
            holders = set(SmppBind.objects.filter(connector=connector).values_list("worker", flat=True))
            assert len(holders) == 2  # one slot each
            body = {"sender": "ACMEUK", "to": numbers, "message": "Your Acme code is 4711", "service": "ENT"}
            assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
            settled = {MessageState.DELIVERED, MessageState.UNDELIVERED, MessageState.EXPIRED}
            wait_until(
                lambda: Message.objects.filter(state__in=settled).count() == 400, timeout=60, message="400 settled"
            )
        finally:
            outputs = [stop(worker) for worker in workers]
        submits = peer.pdus("submit_sm")
        assert sorted(pdu["destination_addr"] for pdu in submits) == sorted(n.lstrip("+") for n in numbers)
        assert {pdu["session"] for pdu in submits} == {b["session"] for b in peer.binds() if b["accepted"]}
        assert peer.stats()["unbinds"] == 2, outputs
    assert not SmppBind.objects.exclude(worker="").exists()  # both gave their slot back


def test_sigterm_lets_outstanding_answers_come_then_unbinds(api, sending):
    with running_peer() as peer:
        peer.configure(resp_delay_ms=1500)
        connector = smpp_connector(peer, binds=1)
        worker = start_worker("--connector", "Upstream")
        try:
            wait_until(lambda: SmppBind.objects.filter(connector=connector, state="bound").exists(), timeout=30)
            body = {"sender": "ACMEUK", "to": ["+447400123456"], "message": "Your Acme code is 4711", "service": "ENT"}
            assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
            wait_until(lambda: len(peer.pdus("submit_sm")) == 1, timeout=30, message="the submit on the wire")
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.2)
        finally:
            output = stop(worker)
        assert worker.returncode == 0, output
        assert "smpp_worker stopped" in output
        assert Message.objects.get().state in (MessageState.SENT, MessageState.DELIVERED)  # the answer was awaited
        assert peer.stats()["unbinds"] == 1
    assert SmppBind.objects.get(connector=connector).worker == ""


def test_the_command_refuses_to_start_without_an_smpp_connector(db):
    env = dict(os.environ, DATABASE_URL=database_url_for_tests(), DJANGO_SETTINGS_MODULE="portal.settings")
    done = subprocess.run(
        [sys.executable, "manage.py", "smpp_worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "No active SMPP connector" in done.stderr
