"""The SMPP gateway for tests: a server on 127.0.0.1 in a thread of the test process (its database threads use
the test database), and smpplib clients (an SMPP library this project did not write) bound to it.

    with running_gateway() as gateway:        # gateway.port; gateway.restart() stops gracefully and starts again
        client = esme(gateway.port, "acme", password, mode="transceiver")
        answer = client.submit("ACMERT", "919876543210", "Hello")   # → (command_status, message_id)
"""

import asyncio
import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.gsm

from campaigns.smpp_gateway.server import GatewayServer
from tests.campaigns.sending_support import approved_sender, approved_template, prices


class RunningGateway:
    def __init__(self, *, tls=None):
        self.tls = tls
        self.port = 0
        self.tls_port = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: GatewayServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> "RunningGateway":
        started = threading.Event()
        self.loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = GatewayServer(host="127.0.0.1", port=self.port, tls_port=self.tls_port, tls=self.tls)
            self.loop.run_until_complete(self.server.start())
            ports = self.server.ports
            self.port = ports[0]
            if self.tls is not None:
                self.tls_port = ports[1]
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name="smpp-gateway", daemon=True)
        self.thread.start()
        if not started.wait(10):
            raise RuntimeError("the SMPP gateway did not start")
        return self

    def call(self, coroutine, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def wait_closed(self, timeout: float = 10.0) -> None:
        """Until every connection has ended (its session row removed, its leases given back)."""
        deadline = time.monotonic() + timeout
        while self.server.connections:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.server.connections)} SMPP connections still open")
            time.sleep(0.02)

    def stop(self) -> None:
        """A graceful stop, as on SIGTERM."""
        if self.server is None:
            return
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.server = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def running_gateway(**options):
    gateway = RunningGateway(**options).start()
    try:
        yield gateway
    finally:
        gateway.stop()


@dataclass
class Esme:
    """An smpplib client with what it has heard: submit answers by sequence, deliver_sm received, errors."""

    client: smpplib.client.Client
    answers: dict[int, tuple[int, str]] = field(default_factory=dict)
    delivered: list = field(default_factory=list)

    def submit(self, source: str, destination: str, text: str, **options) -> tuple[int, str]:
        """One message (split by smpplib into UDH parts when long); waits for every part's answer and returns
        the last one."""
        sequences = self.send(source, destination, text, **options)
        self.wait_answers(sequences)
        return self.answers[sequences[-1]]

    def send(self, source: str, destination: str, text: str, *, registered_delivery: int = 1, **options) -> list[int]:
        parts, coding, esm_class = smpplib.gsm.make_parts(text)
        sequences = []
        for part in parts:
            pdu = self.client.send_message(
                source_addr_ton=smpplib.consts.SMPP_TON_ALNUM,
                source_addr=source,
                dest_addr_ton=smpplib.consts.SMPP_TON_INTL,
                dest_addr_npi=smpplib.consts.SMPP_NPI_ISDN,
                destination_addr=destination,
                short_message=part,
                data_coding=options.pop("data_coding", coding),
                esm_class=esm_class,
                registered_delivery=registered_delivery,
                **options,
            )
            sequences.append(pdu.sequence)
        return sequences

    def wait_answers(self, sequences, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not all(sequence in self.answers for sequence in sequences):
            if time.monotonic() > deadline:
                raise AssertionError(f"no answer to submits {sequences}")
            self.read(deadline - time.monotonic())

    def wait_delivered(self, count: int, timeout: float = 15.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.delivered) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.delivered)} deliver_sm of {count} after {timeout} s")
            self.read(deadline - time.monotonic())
        return self.delivered

    def read(self, timeout: float) -> None:
        self.client._socket.settimeout(max(0.05, min(timeout, 1.0)))
        with contextlib.suppress(socket.timeout, TimeoutError):
            self.client.read_once(auto_send_enquire_link=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.unbind()
        with contextlib.suppress(Exception):
            self.client.disconnect()


def esme(port: int, system_id: str, password: str, *, mode: str = "transceiver", ssl_context=None) -> Esme:
    """A bound smpplib client; raises smpplib's PDUError (its `args[1]` is the command_status) when refused."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=5, ssl_context=ssl_context, allow_unknown_opt_params=True)
    bound = Esme(client)
    client.set_message_sent_handler(lambda pdu: bound.answers.__setitem__(pdu.sequence, (pdu.status, _id(pdu))))
    client.set_message_received_handler(lambda pdu: bound.delivered.append(pdu))
    client.set_error_pdu_handler(lambda pdu: None)
    client.connect()
    getattr(client, f"bind_{mode}")(system_id=system_id, password=password, system_type="smpp")
    return bound


def bind_status(port: int, system_id: str, password: str, *, mode: str = "transceiver") -> int:
    """The command_status a bind gets (0: bound; the client is closed again)."""
    try:
        client = esme(port, system_id, password, mode=mode)
    except smpplib.exceptions.PDUError as error:
        return int(error.args[1])
    client.close()
    return 0


def _id(pdu) -> str:
    value = getattr(pdu, "message_id", None) or b""
    return value.decode() if isinstance(value, bytes) else str(value)


def ready_to_send(settings, account, *, balance: str = "5", **prices_by_country) -> None:
    """The account can send to India (and the given countries) from an approved sender, ACMERT by default."""
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    settings.SMS_TEMPLATE_MATCH_COUNTRIES = ()
    prices(**({"IN": "0.01"} | prices_by_country))
    account.balance = Decimal(balance)
    account.save()
    approved_sender(account)


def dlt_sender_and_template(account):
    """ACMEIN with its DLT entity id, and its approved template "Your code is {{code}}" with a DLT template id."""
    sender = approved_sender(account, "ACMEIN")
    sender.entity_id = "1101000000000001"
    sender.save()
    template = approved_template(account, sender, "Your code is {{code}}", template_type="SI")
    template.dlt_template_id = "1107000000000042"
    template.save()
    return sender, template
