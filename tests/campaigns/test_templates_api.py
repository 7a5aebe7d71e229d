import io

import pytest
from openpyxl import Workbook, load_workbook

from campaigns.models import BlockedTemplate, Sender, SenderStatus, Template, TemplateStatus
from tests.campaigns.template_factories import OTP_BODY, PE_ID, make_sender, make_template

pytestmark = pytest.mark.django_db

SENDERS = "/api/v2/sms/senders"
TEMPLATES = "/api/v2/sms/templates"
BLOCKED = "/api/v2/sms/blocked-templates"


def test_create_sender_returns_the_envelope_with_warnings(api):
    response = api("marketer").post(
        SENDERS, {"name": "offers", "country_code": "IN", "service": "ENT", "entity_id": PE_ID}, format="json"
    )
    body = response.json()
    assert response.status_code == 201
    assert (body["status"], body["code"], body["message"]) == ("OK", 201, "Sender Saved Successfully")
    assert (body["data"]["name"], body["data"]["status"]) == ("OFFERS", 0)
    assert [w["code"] for w in body["data"]["warnings"]] == ["common_word"]


def test_sender_format_errors_are_422_per_field(api):
    response = api("marketer").post(SENDERS, {"name": "AB1", "country_code": "IN", "service": "ENT"}, format="json")
    body = response.json()
    assert response.status_code == 422
    assert set(body["errors"]) == {"name", "entity_id"}


def test_sender_list_filters_by_status(api, account):
    make_sender(account, "ACMEIN")
    make_sender(account, "ACMEPN", status=SenderStatus.PENDING)
    body = api("viewer").get(SENDERS, {"filter[status]": "0"}).json()
    assert [row["name"] for row in body["data"]] == ["ACMEPN"]
    assert body["meta"]["total"] == 1


def test_sender_rename_is_refused(api, account):
    sender = make_sender(account)
    response = api("marketer").patch(f"{SENDERS}/{sender.uid}", {"name": "OTHERS"}, format="json")
    assert response.status_code == 422
    assert "apply for a new sender ID" in response.json()["errors"]["name"][0]


@pytest.mark.parametrize(("role", "status"), [("marketer", 403), ("viewer", 403), ("compliance", 200), ("admin", 200)])
def test_only_reviewers_approve_senders(api, account, role, status):
    sender = make_sender(account, status=SenderStatus.PENDING)
    response = api(role).post(f"{SENDERS}/{sender.uid}/approve", {}, format="json")
    assert response.status_code == status
    sender.refresh_from_db()
    assert sender.status == (SenderStatus.APPROVED if status == 200 else SenderStatus.PENDING)


def test_reject_without_reason_is_422_and_approving_twice_is_409(api, account):
    sender = make_sender(account, status=SenderStatus.PENDING)
    client = api("compliance")
    assert client.post(f"{SENDERS}/{sender.uid}/reject", {}, format="json").status_code == 422
    assert client.post(f"{SENDERS}/{sender.uid}/approve", {}, format="json").status_code == 200
    response = client.post(f"{SENDERS}/{sender.uid}/approve", {}, format="json")
    assert (response.status_code, response.json()["status"]) == (409, "error")


def test_other_accounts_objects_are_404(api, other_account):
    foreign = make_sender(other_account, "OTHERS", status=SenderStatus.PENDING)
    template = make_template(other_account, foreign)
    client = api("admin")
    assert client.get(f"{SENDERS}/{foreign.uid}").status_code == 404
    assert client.post(f"{SENDERS}/{foreign.uid}/approve", {}, format="json").status_code == 404
    assert client.get(f"{TEMPLATES}/{template.uid}").status_code == 404
    assert client.post(f"{TEMPLATES}/{template.uid}/approve", {}, format="json").status_code == 404
    response = client.post(
        TEMPLATES, {"name": "x", "body": OTP_BODY, "sender": str(foreign.uid), "type": "SI"}, format="json"
    )
    assert response.status_code == 422 and "sender" in response.json()["errors"]


def test_create_template_by_sender_name_and_read_it_back(api, account):
    make_sender(account, "ACMEIN")
    client = api("marketer")
    response = client.post(
        TEMPLATES, {"name": "Login OTP", "body": OTP_BODY, "sender": "ACMEIN", "type": "SI"}, format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert (data["alias"], data["status"], data["variables"], data["warnings"]) == ("login-otp", "pending", ["otp"], [])
    detail = client.get(f"{TEMPLATES}/{data['id']}").json()
    assert detail["message"] == "Template Details" and detail["data"]["sender"] == str(Sender.objects.get().uid)


def test_template_rule_errors_are_422_with_messages(api, account):
    make_sender(account, "ACMEIN")
    response = api("marketer").post(
        TEMPLATES, {"name": "Sms 2", "body": "Hi  {{ name }} <b>", "sender": "ACMEIN", "type": "SI"}, format="json"
    )
    errors = response.json()["errors"]
    assert response.status_code == 422
    assert any("consecutive spaces at position 3" in message for message in errors["body"])
    assert "generic name" in errors["name"][0]


def test_a_variable_with_spaces_is_malformed_for_validate_and_create(api, account):
    make_sender(account, "ACMEIN")
    client = api("marketer")
    body = "Dear {{ name }}, your Acme order {{order}} has shipped."
    checked = client.post(f"{TEMPLATES}/validate", {"body": body, "type": "SI"}, format="json").json()["data"]
    [malformed] = [f for f in checked["findings"] if f["code"] == "malformed_variable"]
    assert (malformed["start"], malformed["end"], malformed["severity"]) == (5, 15, "error")
    assert (checked["valid"], checked["variables"]) == (False, ["order"])
    created = client.post(
        TEMPLATES, {"name": "Order shipped", "body": body, "sender": "ACMEIN", "type": "SI"}, format="json"
    )
    assert created.status_code == 422
    assert created.json()["errors"]["body"] == ["Remove the spaces inside {{ name }}: write {{name}} (at position 6)."]
    assert not Template.objects.exists()


def test_only_reviewers_approve_templates(api, account):
    template = make_template(account, make_sender(account))
    assert api("marketer").post(f"{TEMPLATES}/{template.uid}/approve", {}, format="json").status_code == 403
    response = api("compliance").post(f"{TEMPLATES}/{template.uid}/reject", {"reason": "No brand"}, format="json")
    assert response.json()["data"]["status"] == "rejected"
    assert response.json()["data"]["reason"] == "No brand"


def test_validate_returns_findings_encoding_and_variables(api, account):
    response = api("viewer").post(
        f"{TEMPLATES}/validate",
        {"body": "Hello  {{name}} 😀 from Acme", "type": "P", "is_english": False},
        format="json",
    )
    data = response.json()["data"]
    assert response.status_code == 200
    assert {f["code"] for f in data["findings"]} == {"double_space", "emoji", "missing_opt_out"}
    double = next(f for f in data["findings"] if f["code"] == "double_space")
    assert (double["start"], double["end"], double["severity"]) == (5, 7, "error")
    assert (data["valid"], data["encoding"], data["characters"], data["units"], data["parts"]) == (
        False,
        "UCS-2",
        27,
        28,
        1,
    )
    assert data["variables"] == ["name"]


def test_match_endpoint(api, account):
    sender = make_sender(account)
    template = make_template(account, sender, status=TemplateStatus.APPROVED)
    client = api("marketer")
    hit = client.post(
        f"{TEMPLATES}/match", {"sender": "ACMEIN", "message": "Your Acme OTP is 1234. Do not share it."}, format="json"
    )
    assert hit.json()["data"]["template"]["id"] == str(template.uid)
    assert hit.json()["data"]["values"] == {"otp": "1234"}
    miss = client.post(f"{TEMPLATES}/match", {"sender": "ACMEIN", "message": "Your Acme OTP is 1234."}, format="json")
    data = miss.json()["data"]
    assert (data["matched"], data["closest"]["id"]) == (False, str(template.uid))
    assert data["difference"]["position"] == len("Your Acme OTP is 1234.")
    assert data["difference"]["expected"] == " Do not share it."


def test_blocked_templates_crud_clean_all_and_roles(api, account):
    client = api("compliance")
    created = client.post(BLOCKED, {"template_id": "1107161234567890123"}, format="json")
    assert created.status_code == 201 and created.json()["data"]["status"] == 1
    assert client.post(BLOCKED, {"template_id": "1107161234567890123"}, format="json").status_code == 409
    assert api("marketer").post(BLOCKED, {"template_id": "1"}, format="json").status_code == 403
    uid = created.json()["data"]["id"]
    assert client.patch(f"{BLOCKED}/{uid}", {"status": 0}, format="json").json()["data"]["status"] == 0
    assert client.get(BLOCKED).json()["meta"]["total"] == 1
    cleaned = client.delete(BLOCKED)
    assert (cleaned.status_code, cleaned.json()["data"]) == (200, [])
    assert not BlockedTemplate.objects.exists()


@pytest.mark.parametrize("kind", ["txt", "csv", "xlsx"])
def test_blocked_templates_import(api, kind):
    if kind == "xlsx":
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(["template_id", "note"])
        sheet.append(["1107161234567890123", "a"])
        sheet.append(["1107161234567890124", "b"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        content = buffer.getvalue()
    elif kind == "csv":
        content = b"template_id,note\n1107161234567890123,a\n1107161234567890124,b\n"
    else:
        content = b"1107161234567890123\n1107161234567890124\n\n"
    upload = io.BytesIO(content)
    upload.name = f"blocked.{kind}"
    response = api("compliance").post(f"{BLOCKED}/import", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["data"]["created"] == 2
    assert sorted(BlockedTemplate.objects.values_list("template_id", flat=True)) == [
        "1107161234567890123",
        "1107161234567890124",
    ]


def test_ids_that_excel_stored_as_numbers_and_rounded_are_row_errors(api):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["template_id"])
    sheet.append([1107161234567890123])
    sheet.append([123456])
    sheet.append([1107161234567890])  # 16 digits: the reader gives it as a whole number, still refused
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    buffer.name = "blocked.xlsx"
    data = api("compliance").post(f"{BLOCKED}/import", {"file": buffer}, format="multipart").json()["data"]
    assert data["created"] == 1
    assert [error["row"] for error in data["errors"]] == [2, 4]
    assert all("lost digits" in error["message"] for error in data["errors"])
    assert list(BlockedTemplate.objects.values_list("template_id", flat=True)) == ["123456"]


def test_dlt_export_and_import_round_trip(api, account):
    sender = make_sender(account)
    make_template(account, sender, name="Login OTP", status=TemplateStatus.APPROVED)
    make_template(account, sender, body="Acme order {{id}} late.", name="Pending one")
    client = api("compliance")
    response = client.get(f"{TEMPLATES}/dlt-export")
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:4] == ("Template Name", "Template Type", "Header", "Template Content")
    assert rows[1][:4] == ("Login OTP", "Service Implicit", "ACMEIN", "Your Acme OTP is {#var#}. Do not share it.")
    assert len(rows) == 2
    sheet.cell(row=2, column=7, value="1107161234567890123")
    buffer = io.BytesIO()
    sheet.parent.save(buffer)
    buffer.seek(0)
    buffer.name = "dlt.xlsx"
    imported = client.post(f"{TEMPLATES}/dlt-import", {"file": buffer}, format="multipart")
    assert imported.json()["data"]["updated"] == 1
    assert Template.objects.get(name="Login OTP").dlt_template_id == "1107161234567890123"


def test_patching_an_approved_templates_body_sends_it_back_to_review(api, account):
    template = make_template(account, make_sender(account), status=TemplateStatus.APPROVED, name="Login OTP")
    client = api("marketer")
    renamed = client.patch(f"{TEMPLATES}/{template.uid}", {"dlt_template_id": "1107161234567890123"}, format="json")
    assert renamed.json()["data"]["status"] == "approved"
    edited = client.patch(f"{TEMPLATES}/{template.uid}", {"body": "Your Acme PIN is {{pin}}. Keep it."}, format="json")
    data = edited.json()["data"]
    assert (edited.status_code, data["status"], data["version"], data["variables"]) == (200, "pending", 2, ["pin"])


def test_validating_an_edited_template_does_not_flag_it_as_its_own_duplicate(api, account):
    template = make_template(account, make_sender(account, "ACMEIN"), OTP_BODY)
    make_sender(account, "ACMEOT")
    client = api("marketer")
    payload = {"body": OTP_BODY, "type": "SI", "sender": "ACMEOT"}
    duplicate = client.post(f"{TEMPLATES}/validate", payload, format="json").json()["data"]
    assert "duplicate_body_other_sender" in {f["code"] for f in duplicate["findings"]}
    itself = client.post(f"{TEMPLATES}/validate", {**payload, "id": str(template.uid)}, format="json").json()["data"]
    assert "duplicate_body_other_sender" not in {f["code"] for f in itself["findings"]}
