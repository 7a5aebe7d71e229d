"""Rows to export and files to read back, shared by the export tests."""

import csv
import io
import uuid
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from openpyxl import load_workbook

from campaigns.models import DeliveryReport, Message
from contacts.models import InboundMessage

API = "/api/v2/exports"


def message(account, recipient="+919876543210", **fields) -> Message:
    values = {
        "group_id": uuid.uuid4(),
        "sender_name": "DEMOMT",
        "body": "Your order 1234 has shipped.",
        "not_before": timezone.now(),
        "state": "delivered",
        "cost": Decimal("0.12000"),
    }
    return Message.objects.create(account=account, recipient=recipient, **(values | fields))


def report(message_row: Message, **fields) -> DeliveryReport:
    values = {"code": "000", "status": "DELIVRD", "state": "delivered", "applied": True, "source": "callback"}
    return DeliveryReport.objects.create(account=message_row.account, message=message_row, **(values | fields))


def inbound(account, from_number="+919876543210", **fields) -> InboundMessage:
    values = {"to": "DEMOMT", "text": "STOP", "received_at": timezone.now() - timedelta(minutes=1)}
    return InboundMessage.objects.create(account=account, from_number=from_number, **(values | fields))


def table(content: bytes, file_format: str) -> list[dict]:
    """The rows of an exported file as dicts by header (CSV through csv, XLSX through openpyxl)."""
    if file_format == "csv":
        text = content.decode("utf-8")
        assert text.startswith("\ufeff")
        return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    sheet = load_workbook(io.BytesIO(content)).active
    assert all(cell.data_type != "f" for cells in sheet.iter_rows() for cell in cells)
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [{name: ("" if value is None else value) for name, value in zip(header, row, strict=True)} for row in rows]


def headers(content: bytes, file_format: str) -> list[str]:
    if file_format == "csv":
        return next(csv.reader(io.StringIO(content.decode("utf-8").removeprefix("\ufeff"))))
    return [cell for cell in next(load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))]


def body_of(response) -> bytes:
    return b"".join(response.streaming_content)


def run_export(client, capture, kind: str, file_format: str = "csv", filters: dict | None = None):
    """POST /exports as the client, run the job (the on-commit task, eager), and return (export data, file)."""
    with capture(execute=True):
        response = client.post(API, {"kind": kind, "format": file_format, "filter": filters or {}}, format="json")
    assert response.status_code == 202, response.content
    export = client.get(f"{API}/{response.json()['data']['id']}").json()["data"]
    assert export["state"] == "done", export
    download = client.get(f"{API}/{export['id']}/download")
    assert download.status_code == 200
    return export, body_of(download)
