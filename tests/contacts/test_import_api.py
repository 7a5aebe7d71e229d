"""API flow of imports: upload (202) → poll → errors as JSON, CSV and XLSX; dry run → start; limits; scoping."""

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Contact, Group, Import
from tests.contacts import import_files

URL = "/api/v2/contacts/imports"


def csv_upload(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


@pytest.fixture
def marketer_api(api):
    return api("marketer")


def upload(client, file, **fields):
    return client.post(URL, {"file": file, **fields}, format="multipart")


def test_upload_poll_and_download_errors(marketer_api, account):
    group = Group.objects.create(account=account, name="Customers")
    file = csv_upload("Mobile,Name,Email\n+447400123456,Ann Lee,ann@x.com\n12,Bob,\n+447400123457,Cy,not-mail\n")
    response = upload(marketer_api, file, mode="upsert", group="Customers", tags="march, vip")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["code"], body["message"]) == ("OK", 202, "Import accepted")
    import_id = body["data"]["id"]

    detail = marketer_api.get(f"{URL}/{import_id}").json()["data"]
    assert detail["state"] == "done"
    assert detail["counts"] == {
        "read": 3,
        "created": 1,
        "updated": 0,
        "skipped": 0,
        "failed": 2,
        "duplicates": 0,
        "opted_out": 0,
    }
    assert detail["group"] == str(group.uid) and detail["tags"] == ["march", "vip"]
    assert detail["errors_count"] == 2 and detail["progress"] == 100

    errors = marketer_api.get(f"{URL}/{import_id}/errors").json()
    assert errors["meta"]["total"] == 2
    assert errors["data"][0] == {
        "sheet": "",
        "row": 3,
        "column": "A (Mobile)",
        "value": "12",
        "code": "invalid_phone",
        "reason": errors["data"][0]["reason"],
    }
    as_csv = marketer_api.get(f"{URL}/{import_id}/errors?download=csv")
    assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
    lines = b"".join(as_csv.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Sheet,Row,Column,Value,Reason,Code"
    assert lines[2].startswith(",4,C (Email),not-mail,")
    as_xlsx = marketer_api.get(f"{URL}/{import_id}/errors?download=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(as_xlsx.streaming_content))).active
    assert [cell.value for cell in sheet[1]] == ["Sheet", "Row", "Column", "Value", "Reason", "Code"]
    assert sheet.max_row == 3
    assert marketer_api.get(f"{URL}/{import_id}/errors?download=pdf").status_code == 404
    contact = Contact.objects.get(account=account)
    assert (contact.first_name, contact.last_name) == ("Ann", "Lee")


def test_dry_run_writes_nothing_then_start_with_a_new_mapping(marketer_api, account):
    file = csv_upload("Primary,Other\n+447400123456,+447400123457\n")
    body = upload(marketer_api, file, dry_run="true").json()["data"]
    assert body["dry_run"] is True and body["state"] == "done" and Contact.objects.count() == 0
    preview = body["report"]["sheets"][0]["columns"]
    assert [column["target"] for column in preview] == ["phone", "attribute"]
    mapping = {"mapping": {"Primary": "ignore", "Other": "phone"}}
    started = marketer_api.post(f"{URL}/{body['id']}/start", mapping, format="json")
    assert started.status_code == 202
    assert started.json()["data"]["dry_run"] is False
    assert list(Contact.objects.values_list("phone", flat=True)) == ["+447400123457"]


def test_hostile_file_fails_with_its_reason_not_a_500(marketer_api, tmp_path):
    path = import_files.zip_bomb(tmp_path / "bomb.xlsx")
    response = upload(marketer_api, SimpleUploadedFile("bomb.xlsx", path.read_bytes()))
    assert response.status_code == 202
    data = response.json()["data"]
    assert data["state"] == "failed"
    assert data["error"]["code"] == "zip_bomb" and "unsafe" in data["error"]["message"]


def test_upload_over_the_limit_is_413(marketer_api, settings):
    settings.IMPORT_MAX_FILE_SIZE = {"contacts": 10}
    response = upload(marketer_api, csv_upload("phone\n+447400123456\n"))
    assert response.status_code == 413
    assert response.json()["status"] == "error"
    assert not Import.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "file"),
        ({"file": "x", "mode": "merge"}, "mode"),
        ({"file": "x", "mapping": "{bad"}, "mapping"),
        ({"file": "x", "mapping": '{"A": "password"}'}, "mapping"),
        ({"file": "x", "group": "No such group"}, "group"),
        ({"file": "x", "keep_existing": "shoe_size"}, "keep_existing"),
    ],
)
def test_invalid_options_are_422_on_their_field(marketer_api, fields, field):
    if "file" in fields:
        fields = {**fields, "file": csv_upload("phone\n+447400123456\n")}
    response = marketer_api.post(URL, fields, format="multipart")
    assert response.status_code == 422, response.json()
    assert field in response.json()["errors"]


def test_viewer_reads_but_cannot_upload_and_other_accounts_see_404(api, account, other_account):
    marketer = api("marketer")
    import_id = upload(marketer, csv_upload("phone\n+447400123456\n")).json()["data"]["id"]
    viewer = api("viewer")
    assert viewer.get(f"{URL}/{import_id}").status_code == 200
    assert upload(viewer, csv_upload("phone\n+447400123456\n")).status_code == 403
    outsider = api("admin", account_obj=other_account)
    assert outsider.get(f"{URL}/{import_id}").status_code == 404
    assert outsider.get(f"{URL}/{import_id}/errors").status_code == 404
    assert outsider.delete(f"{URL}/{import_id}").status_code == 404


def test_history_lists_and_delete_removes_an_entry(marketer_api):
    first = upload(marketer_api, csv_upload("phone\n+447400123456\n", "a.csv")).json()["data"]["id"]
    upload(marketer_api, csv_upload("phone\n+447400123457\n", "b.csv"))
    listing = marketer_api.get(URL, {"filter[kind]": "contacts"}).json()
    assert [item["file_name"] for item in listing["data"]] == ["b.csv", "a.csv"]
    assert listing["data"][0]["created_by"] == marketer_api.user.email
    deleted = marketer_api.delete(f"{URL}/{first}")
    assert deleted.status_code == 200 and deleted.json()["data"] == []
    assert marketer_api.get(f"{URL}/{first}").status_code == 404


def test_cancel_a_finished_import_changes_nothing_and_start_a_running_one_conflicts(marketer_api):
    import_id = upload(marketer_api, csv_upload("phone\n+447400123456\n")).json()["data"]["id"]
    assert marketer_api.post(f"{URL}/{import_id}/cancel").json()["data"]["state"] == "done"
    Import.objects.filter(uid=import_id).update(state="writing")
    assert marketer_api.post(f"{URL}/{import_id}/start").status_code == 409
    assert marketer_api.post(f"{URL}/{import_id}/cancel").json()["data"]["state"] == "writing"
    assert Import.objects.get(uid=import_id).cancel_requested is True


def test_oversized_upload_is_refused_from_its_content_length(marketer_api, settings):
    settings.IMPORT_MAX_FILE_SIZE = 100
    body = "phone\n" + "+447400123456\n" * 20000
    response = upload(marketer_api, csv_upload(body))
    assert response.status_code == 413
    assert "limit for this import" in response.json()["message"] + str(response.json().get("errors", ""))


def test_error_report_masks_numbers_for_mobile_secure_accounts(marketer_api, account):
    account.mobile_secure = True
    account.save()
    file = csv_upload("Mobile,Name\n+4474001234567890,Too long\n+447400123456,Ann\n")
    import_id = upload(marketer_api, file, mode="upsert").json()["data"]["id"]
    as_csv = marketer_api.get(f"{URL}/{import_id}/errors?download=csv")
    report = b"".join(as_csv.streaming_content).decode("utf-8-sig")
    assert "+447400123456XXXX" in report and "4567890" not in report
