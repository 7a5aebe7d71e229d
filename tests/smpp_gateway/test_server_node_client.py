"""The gateway with npm's `smpp` package (node-smpp) as the client: submit_sm and data_sm, message_payload,
the India DLT TLVs (pe_id, template_id) checked against the sender and template, receipts on the same bind, TLS."""

import json
import shutil
import subprocess
from decimal import Decimal

import pytest

from campaigns.models import Message
from campaigns.smpp_gateway import statuses
from campaigns.smpp_gateway.credentials import issue_credential
from campaigns.smpp_gateway.server import tls_context
from tests.campaigns.sending_support import prices, run_sweeps
from tests.support.services import in_ci, missing
from tests.support.smpp_gateway import dlt_sender_and_template, running_gateway
from tests.support.smpp_peer import PEER_DIR, peer_available
from tests.support.tls import self_signed_certificate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _node_esme():
    reason = peer_available()
    if reason:
        missing(reason, required=in_ci())


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()
    dlt_sender_and_template(account)


def node_esme(job: dict, timeout: float = 30) -> dict:
    completed = subprocess.run(
        [shutil.which("node"), str(PEER_DIR / "esme.js"), json.dumps(job)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=PEER_DIR,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def test_node_smpp_submits_with_dlt_tlvs_and_gets_its_receipt(account):
    issued = issue_credential(account, system_id="acme")
    with running_gateway() as gateway:
        common = {"port": gateway.port, "system_id": "acme", "password": issued.password}
        submits = [
            {
                "source_addr": "ACMEIN",
                "destination_addr": "919876543210",
                "short_message": "Your code is 1234",
                "registered_delivery": 1,
                "pe_id": "1101000000000001",
                "template_id": "1107000000000042",
            },
            {
                "command": "data_sm",
                "source_addr": "ACMEIN",
                "destination_addr": "919876543211",
                "message_payload": "Your code is 5678",
                "template_id": "1107000000000042",
            },
            {
                "source_addr": "ACMEIN",
                "destination_addr": "919876543212",
                "short_message": "Your code is 9",
                "pe_id": "9999",
                "template_id": "1107000000000042",
            },
            {
                "source_addr": "ACMEIN",
                "destination_addr": "919876543213",
                "short_message": "Not the template",
                "template_id": "1107000000000042",
            },
        ]
        answers = node_esme({**common, "submits": submits})["answers"]
        assert [answer["command_status"] for answer in answers] == [
            0,
            0,
            statuses.INVALID_TLV_VALUE.number,
            statuses.NO_TEMPLATE_MATCH.number,
        ]
        first = Message.objects.get(uid=answers[0]["message_id"])
        assert (first.body, first.recipient, first.template.dlt_template_id) == (
            "Your code is 1234",
            "+919876543210",
            "1107000000000042",
        )
        assert Message.objects.get(uid=answers[1]["message_id"]).body == "Your code is 5678"
        run_sweeps()
        receipts = node_esme({**common, "mode": "receiver", "deliveries": 1})["deliveries"]
    assert receipts[0]["receipted_message_id"] == answers[0]["message_id"]
    assert receipts[0]["short_message"].startswith(f"id:{answers[0]['message_id']} sub:001 dlvrd:001")


def test_node_smpp_binds_over_tls(account, tmp_path):
    issued = issue_credential(account, system_id="acme")
    cert, key = self_signed_certificate(tmp_path, "127.0.0.1")
    with running_gateway(tls=tls_context(str(cert), str(key))) as gateway:
        job = {"port": gateway.tls_port, "tls": True, "system_id": "acme", "password": issued.password}
        submits = [
            {
                "source_addr": "ACMEIN",
                "destination_addr": "919876543210",
                "short_message": "Your code is 42",
                "template_id": "1107000000000042",
            }
        ]
        result = node_esme({**job, "submits": submits})
    assert result["bind_status"] == 0
    assert result["answers"][0]["command_status"] == 0
    assert Message.objects.get(uid=result["answers"][0]["message_id"]).body == "Your code is 42"
