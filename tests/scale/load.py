"""The scale test's traffic, all through the public HTTP API of host A's gunicorn, and the numbers it uses.

Numbers are UK mobiles; the simulator connector decides a message's fate by the last four digits
(campaigns/connectors/simulator.py), so every 500th number of a list is aimed at one outcome: 9999 refused at
submit (rejected, refunded), 0000 undelivered (charged), 9998 throttled once (retried, then delivered).
"""

import csv
import io
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import requests

SPECIAL_EVERY = 500
SPECIAL_SUFFIXES = ("9999", "0000", "9998")
HTTP_TIMEOUT = 60


def numbers(kind: str, count: int) -> list[str]:
    """`count` distinct numbers of one list ("campaign", "api" or "import"), a few aimed at special outcomes.

    The ranges are the United Kingdom's alone (parts of +44 7911, 7700, 78, 79... belong to Jersey, Guernsey or
    the Isle of Man, which a GB sender and price do not cover)."""
    normal_prefix = {"campaign": "+44740", "api": "+44741", "import": "+44742"}[kind]
    special_prefix = {"campaign": "+44730", "api": "+44731"}.get(kind)
    assert count <= 500_000, "at most 500,000 numbers per list"
    result = []
    for index in range(count):
        slot, position = divmod(index, SPECIAL_EVERY)
        if special_prefix and 1 <= position <= len(SPECIAL_SUFFIXES):
            result.append(f"{special_prefix}{slot:03d}{SPECIAL_SUFFIXES[position - 1]}")
        else:
            result.append(f"{normal_prefix}{index:06d}5")
    return result


class ApiClient:
    """Bearer-token calls to the portal's API, one keep-alive session per thread, through the TLS proxy's eyes
    (`X-Forwarded-Proto: https`, trusted by TRUST_PROXY_HEADERS)."""

    def __init__(self, base_url: str, token: str):
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}", "X-Forwarded-Proto": "https"}
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
            self._local.session.headers.update(self.headers)
        return self._local.session

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, f"{self.base_url}/api/v2{path}", timeout=HTTP_TIMEOUT, **kwargs)

    def ok(self, method: str, path: str, expected: Iterable[int] = (200, 201, 202), **kwargs) -> dict:
        response = self.request(method, path, **kwargs)
        assert response.status_code in tuple(expected), f"{method} {path}: {response.status_code} {response.text}"
        return response.json()["data"]


@dataclass
class SendResults:
    """What the API answered to the single-number sends."""

    accepted: dict[str, str] = field(default_factory=dict)  # message id → number
    rejected: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # HTTP errors (no retry: a send is not idempotent)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, number: str, response: requests.Response | None, error: str = "") -> None:
        with self.lock:
            if response is None or response.status_code not in (200, 201):
                detail = error or f"{response.status_code} {response.text[:200]}"
                self.failures.append(f"{number}: {detail}")
                return
            data = response.json()["data"]
            for item in data["accepted"]:
                self.accepted[item["message_id"]] = item["number"]
            self.rejected.extend(data["rejected"])


def send_each(client: ApiClient, sender: str, recipients: list[str], threads: int) -> SendResults:
    """POST /sms/send once per number from a pool of keep-alive connections; returns when all are answered."""
    results = SendResults()

    def send(number: str) -> None:
        body = {"sender": sender, "to": number, "message": "Your Acme verification code is ready", "custom": number}
        try:
            results.add(number, client.request("POST", "/sms/send", json=body))
        except requests.RequestException as exc:
            results.add(number, None, error=repr(exc))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(send, recipients))
    return results


@dataclass(frozen=True)
class ImportPlan:
    """The CSV the import uploads and the counts it must end with."""

    content: bytes
    rows: int
    new_numbers: list[str]
    updated_numbers: list[str]
    duplicates: int
    invalid: int


def import_plan(new: int, existing: list[str], duplicates: int, invalid: int, min_bytes: int) -> ImportPlan:
    """New numbers, numbers already in the account (updated: upsert), repeats of earlier rows, invalid numbers;
    a `notes` column pads the file past `min_bytes` so it runs as a background task (not inline)."""
    new_numbers = numbers("import", new)
    rows = [(number, f"New{i}", "fresh") for i, number in enumerate(new_numbers)]
    rows += [(number, f"Known{i}", "updated") for i, number in enumerate(existing)]
    rows += [(new_numbers[i], "Again", "repeat") for i in range(duplicates)]
    rows += [(f"12{i}", "Broken", "invalid") for i in range(invalid)]
    header = ["phone", "first name", "source", "notes"]
    plain = len(_csv([header, *rows]))
    pad = min(200, max(0, -(-(min_bytes - plain) // max(1, len(rows)))))
    content = _csv([header, *[(*row, "n" * pad) for row in rows]])
    return ImportPlan(content, len(rows), new_numbers, list(existing), duplicates, invalid)


def _csv(rows: list) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode()
