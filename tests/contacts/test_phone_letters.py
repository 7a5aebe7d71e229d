"""Letters in a phone number make it invalid on every surface, never keypad digits (issue 14, defect 7).

`+91987654XXXX` is what exports of `mobile_secure` accounts write; phonenumbers alone reads it as `+919876549999`
(and `+1-800-FLOWERS` as `+18003569377`). Imports (csv, xlsx, the parallel phone workers), the contacts API and
form and opt-outs (API, import, inbound) give the one answer of `contacts.phones`; sends and quotes are in
`tests/campaigns/test_phone_letters_sending.py`.
"""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.importing import engine
from contacts.importing.engine import PhoneNormalizer
from contacts.models import Contact, ImportRowError, Unsubscriber
from contacts.phones import EXTENSION, LETTERS
from contacts.services_unsubscribers import add_unsubscriber, rotate_inbound_token
from tests.portal.exports_support import run_export

pytestmark = pytest.mark.django_db

MASKED = "+91987654XXXX"
VANITY = "+1-800-FLOWERS"
KEYPAD_READINGS = {"+919876549999", "+18003569377"}
IMPORTS = "/api/v2/contacts/imports"


def invalid_reason(reason: str) -> str:
    return f"Invalid phone number: {reason}."


def csv_bytes(rows: list[list]) -> bytes:
    handle = io.StringIO()
    csv.writer(handle).writerows(rows)
    return handle.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = openpyxl.Workbook()
    for row in rows:
        workbook.active.append(row)
    stream = io.BytesIO()
    workbook.save(stream)
    return stream.getvalue()


def import_file(client, name: str, content: bytes, **fields) -> dict:
    """Uploads a file to the contacts import API; the finished import's detail."""
    upload = SimpleUploadedFile(name, content)
    response = client.post(IMPORTS, {"file": upload, **fields}, format="multipart")
    assert response.status_code == 202, response.json()
    return client.get(f"{IMPORTS}/{response.json()['data']['id']}").json()["data"]


def row_errors(client, import_id: str) -> list[dict]:
    return client.get(f"{IMPORTS}/{import_id}/errors").json()["data"]


def contacts_snapshot(account) -> list[tuple]:
    return list(
        Contact.objects.filter(account=account)
        .order_by("id")
        .values_list("id", "phone", "first_name", "last_name", "email", "attributes", "updated_at")
    )


# --- imports ----------------------------------------------------------------------------------------------

ROWS = [["Mobile", "Name"], [MASKED, "Masked"], [VANITY, "Florist"], ["+91 98765 43210", "Asha"]]


@pytest.mark.parametrize(("name", "content"), [("people.csv", csv_bytes(ROWS)), ("people.xlsx", xlsx_bytes(ROWS))])
def test_an_import_reports_numbers_with_letters_as_row_errors(api, account, name, content):
    client = api("marketer")
    detail = import_file(client, name, content)
    assert detail["state"] == "done"
    assert (detail["counts"]["created"], detail["counts"]["failed"]) == (1, 2)
    errors = row_errors(client, detail["id"])
    assert [(error["row"], error["value"], error["code"], error["reason"]) for error in errors] == [
        (2, MASKED, "invalid_phone", invalid_reason(LETTERS)),
        (3, VANITY, "invalid_phone", invalid_reason(LETTERS)),
    ]
    assert list(Contact.objects.filter(account=account).values_list("phone", flat=True)) == ["+919876543210"]


def test_the_parallel_phone_workers_refuse_letters_too(api, account, settings, monkeypatch):
    monkeypatch.setattr(engine, "POOL_MIN_ROWS", 1)  # the workers start for any file, not only 50k rows and up
    settings.IMPORT_PHONE_PROCESSES = 2
    valid = [[f"+91 98{index:08d}", f"P{index}"] for index in range(1500)]
    detail = import_file(api("marketer"), "big.csv", csv_bytes([ROWS[0], *valid, [MASKED, "M"], [VANITY, "F"]]))
    assert (detail["counts"]["created"], detail["counts"]["failed"]) == (1500, 2)
    reasons = set(ImportRowError.objects.filter(job__uid=detail["id"]).values_list("value", "reason"))
    assert reasons == {(MASKED, invalid_reason(LETTERS)), (VANITY, invalid_reason(LETTERS))}
    assert not Contact.objects.filter(account=account, phone__in=KEYPAD_READINGS).exists()


def test_phone_worker_processes_answer_with_the_same_reasons():
    normalizer = PhoneNormalizer("IN", processes=2)
    values = [f"98{index:08d}" for index in range(1200)] + [MASKED, VANITY, "+91 98765 43210 x12"]
    try:
        results = normalizer.collect(normalizer.submit(values))
        assert normalizer.pool is not None
    finally:
        normalizer.close()
    assert [results[value].reason for value in values[-3:]] == [LETTERS, LETTERS, EXTENSION]
    assert not any(results[value].valid for value in values[-3:])


# --- export of a mobile_secure account, imported again -----------------------------------------------------


@pytest.fixture
def secure_account(account):
    account.mobile_secure = True
    account.save()
    return account


@pytest.mark.parametrize("mode", ["upsert", "create", "update"])
def test_a_mobile_secure_export_imported_again_creates_and_changes_nothing(
    api, client_for, admin_user, secure_account, mode, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    Contact.objects.create(account=secure_account, phone="+919876543210", first_name="Asha", email="a@example.com")
    # the number phonenumbers would make of the mask: before the fix, it got Asha's name
    Contact.objects.create(account=secure_account, phone="+919876549999", first_name="Zed")
    Contact.objects.create(account=secure_account, phone="+447400123456", first_name="Oliver")
    before = contacts_snapshot(secure_account)
    _, exported = run_export(api(account_obj=secure_account), django_capture_on_commit_callbacks, "contacts")
    assert "+91987654XXXX" in exported.decode("utf-8-sig") and "+919876543210" not in exported.decode("utf-8-sig")

    client = api("marketer")
    detail = import_file(client, "contacts-export.csv", exported, mode=mode)
    assert detail["state"] == "done"
    assert (detail["counts"]["read"], detail["counts"]["failed"]) == (3, 3)
    assert detail["counts"]["created"] == detail["counts"]["updated"] == 0
    errors = row_errors(client, detail["id"])
    assert {(error["code"], error["reason"]) for error in errors} == {("invalid_phone", invalid_reason(LETTERS))}
    assert contacts_snapshot(secure_account) == before


def test_an_opt_out_export_imported_again_adds_no_opt_out(api, client_for, admin_user, secure_account):
    add_unsubscriber(secure_account, admin_user, receiver="+919876543210")
    exported = b"".join(client_for(admin_user).get(reverse("contacts:unsubscriber_export")).streaming_content)
    assert MASKED in exported.decode("utf-8-sig")
    upload = SimpleUploadedFile("unsubscribers.csv", exported)
    response = api().post("/api/v2/sms/unsubscribers/import", {"file": upload}, format="multipart")
    data = response.json()["data"]
    assert (data["created"], data["failed"]) == (0, 1)
    assert [error["code"] for error in data["errors"]] == ["invalid_phone"]
    assert LETTERS in data["errors"][0]["reason"]
    assert list(Unsubscriber.objects.values_list("receiver", flat=True)) == ["+919876543210"]


# --- contacts API and form --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "reason"), [(MASKED, LETTERS), (VANITY, LETTERS), ("+91 98765 43210 ext. 12", EXTENSION)]
)
def test_the_contacts_api_is_422_naming_the_phone(api, account, phone, reason):
    response = api("marketer").post("/api/v2/contacts", {"phone": phone, "first_name": "Asha"}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["phone"] == [f"Not a valid phone number: {reason}."]
    assert not Contact.objects.exists()


def test_the_contact_form_shows_the_error(client_for, marketer, account):
    client = client_for(marketer)
    for phone in (MASKED, VANITY):
        response = client.post("/contacts/new/", {"phone": phone, "first_name": "Asha"})
        assert response.status_code == 422
        assert f"Not a valid phone number: {LETTERS}." in response.content.decode()
    contact = Contact.objects.create(account=account, phone="+919876543210", first_name="Asha")
    edited = client.post(f"/contacts/{contact.uid}/edit/", {"phone": MASKED, "first_name": "Asha"})
    assert edited.status_code == 422 and LETTERS in edited.content.decode()
    contact.refresh_from_db()
    assert contact.phone == "+919876543210"
    assert Contact.objects.count() == 1


# --- opt-outs ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("receiver", [MASKED, VANITY])
def test_the_unsubscribers_api_is_422_naming_the_receiver(api, account, receiver):
    response = api().post("/api/v2/sms/unsubscribers", {"receiver": receiver}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["receiver"] == [f"{receiver!r} is not a valid phone number: {LETTERS}"]
    assert not Unsubscriber.objects.exists()


def test_an_inbound_stop_from_a_number_with_letters_opts_nothing_out(client, account, admin_user):
    token = rotate_inbound_token(account, admin_user)
    payload = {"from": MASKED, "to": "ACMEBK", "text": "STOP", "provider_id": "mo-1"}
    response = client.post("/api/v2/sms/inbound", payload, content_type="application/json", HTTP_X_INBOUND_TOKEN=token)
    assert response.json()["data"]["action"] == "invalid_number"
    assert not Unsubscriber.objects.exists()
