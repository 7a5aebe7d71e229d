"""Exports through the API: every kind in both formats read back, filters, masking, hide_msg, formula-safe cells,
refusals naming the field, and another account's export a 404."""

import pytest

from contacts.models import Contact, Group, GroupMember
from portal.models import AuditEvent, Export
from tests.portal.exports_support import API, body_of, headers, inbound, message, report, run_export, table

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "xlsx"]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize("file_format", FORMATS)
def test_message_log_export_is_filtered_and_formula_safe(api, account, file_format, django_capture_on_commit_callbacks):
    message(account, body='=HYPERLINK("http://evil")', custom_id="@SUM(A1)", sender_name="DEMOMT")
    message(account, recipient="+919876500001", state="failed", error_code="001", error_detail="Unknown subscriber")
    message(account, recipient="+919876500002", body="-2+3 deals", custom_id="plain")
    client = api()
    capture = django_capture_on_commit_callbacks
    export, content = run_export(client, capture, "messages", file_format, {"status": "delivered"})
    rows = table(content, file_format)
    assert export["rows"] == export["rows_total"] == 2 and export["progress"] == 100
    assert export["file_name"].startswith("messages-") and export["file_name"].endswith(f".{file_format}")
    assert export["download_url"].endswith(f"{API}/{export['id']}/download")
    assert {row["status"] for row in rows} == {"delivered"}
    by_mobile = {row["mobile"]: row for row in rows}
    assert set(by_mobile) == {"+919876543210", "+919876500002"}  # E.164 in the phone column stays as it is
    assert by_mobile["+919876543210"]["body"] == '\'=HYPERLINK("http://evil")'
    assert by_mobile["+919876543210"]["custom"] == "'@SUM(A1)"
    assert by_mobile["+919876500002"]["body"] == "'-2+3 deals"
    failed, _ = run_export(client, capture, "messages", file_format, {"mobile": "500001"})
    assert failed["rows"] == 1


@pytest.mark.parametrize("file_format", FORMATS)
def test_message_export_masks_numbers_and_hides_texts(api, account, file_format, django_capture_on_commit_callbacks):
    account.mobile_secure, account.hide_msg = True, True
    account.save()
    message(account, body="Your secret order 9911")
    _, content = run_export(api(), django_capture_on_commit_callbacks, "messages", file_format)
    assert "body" not in headers(content, file_format)
    (row,) = table(content, file_format)
    assert row["mobile"] == "+91987654XXXX"
    raw = content.decode("utf-8", "ignore") if file_format == "csv" else str(table(content, file_format))
    assert "9876543210" not in raw and "secret order" not in raw


@pytest.mark.parametrize("file_format", FORMATS)
def test_delivery_reports_of_the_filtered_messages(api, account, file_format, django_capture_on_commit_callbacks):
    kept = message(account, custom_id="order-1")
    report(kept, code="", status="ACCEPTD", state="sent")
    report(kept)
    report(message(account, recipient="+919876500001", custom_id="order-2"), code="001", status="UNDELIV")
    account.mobile_secure = True
    account.save()
    export, content = run_export(
        api(), django_capture_on_commit_callbacks, "delivery_reports", file_format, {"custom": "order-1"}
    )
    rows = table(content, file_format)
    assert export["rows"] == 2
    assert [row["status"] for row in rows] == ["DELIVRD", "ACCEPTD"]  # newest first
    assert {row["message_id"] for row in rows} == {str(kept.uid)}
    assert {row["mobile"] for row in rows} == {"+91987654XXXX"}


@pytest.mark.parametrize("file_format", FORMATS)
def test_inbound_export_filters_masks_and_hides(api, account, file_format, django_capture_on_commit_callbacks):
    inbound(account, text="STOP please", keyword="STOP", action="opted_out")
    inbound(account, from_number="+447400123456", text="=cmd|' /C calc'!A0", provider_id="p-2")
    client = api()
    capture = django_capture_on_commit_callbacks
    _, content = run_export(client, capture, "inbound", file_format, {"from": "+447400123456"})
    (row,) = table(content, file_format)
    assert row["from"] == "+447400123456" and row["text"] == "'=cmd|' /C calc'!A0" and row["provider_id"] == "p-2"
    account.mobile_secure, account.hide_msg = True, True
    account.save()
    _, content = run_export(client, capture, "inbound", file_format, {"action": "opted_out"})
    (row,) = table(content, file_format)
    assert row["from"] == "+91987654XXXX" and "text" not in row and row["keyword"] == "STOP"


@pytest.mark.parametrize("file_format", FORMATS)
def test_contact_export_by_group(api, account, file_format, django_capture_on_commit_callbacks):
    group = Group.objects.create(account=account, name="VIP")
    members = [Contact.objects.create(account=account, phone=f"+91987650000{n}", first_name=f"P{n}") for n in range(3)]
    GroupMember.objects.bulk_create(GroupMember(contact=contact, group=group) for contact in members[:2])
    Contact.objects.filter(pk=members[0].pk).update(first_name="+1 (555) call me", attributes={"k": "v"})
    _, content = run_export(api(), django_capture_on_commit_callbacks, "contacts", file_format, {"group": "vip"})
    rows = table(content, file_format)
    assert {row["phone"] for row in rows} == {members[0].phone, members[1].phone}
    assert {row["groups"] for row in rows} == {"VIP"}
    assert "'+1 (555) call me" in {row["first_name"] for row in rows}


def test_bad_kind_format_or_filter_is_a_422_naming_the_field(api, account):
    client = api()
    cases = [
        ({"kind": "everything", "format": "csv"}, "kind"),
        ({"kind": "messages", "format": "pdf"}, "format"),
        ({"kind": "messages", "filter": {"colour": "red"}}, "filter[colour]"),
        ({"kind": "messages", "filter": {"status": "lost"}}, "filter[status]"),
        ({"kind": "messages", "filter": {"campaign": "not-an-id"}}, "filter[campaign]"),
        ({"kind": "inbound", "filter": {"action": ["opted_out"]}}, "filter[action]"),
        ({"kind": "contacts", "filter": "q=asha"}, "filter"),
    ]
    for body, field in cases:
        response = client.post(API, body, format="json")
        assert response.status_code == 422, (body, response.content)
        assert field in response.json()["errors"], (body, response.json())
    assert not Export.objects.exists()


def test_another_accounts_export_is_a_404(api, account, other_account, django_capture_on_commit_callbacks):
    message(other_account)
    theirs, _ = run_export(api(account_obj=other_account), django_capture_on_commit_callbacks, "messages")
    client = api()
    assert client.get(f"{API}/{theirs['id']}").status_code == 404
    assert client.get(f"{API}/{theirs['id']}/download").status_code == 404
    assert client.get(API).json()["data"] == []


def test_download_waits_for_the_job_and_is_audited(api, account, django_capture_on_commit_callbacks):
    client = api()
    queued = client.post(API, {"kind": "messages", "format": "csv"}, format="json").json()["data"]  # not run
    assert queued["state"] == "queued" and queued["download_url"] is None
    refused = client.get(f"{API}/{queued['id']}/download")
    assert refused.status_code == 409 and "queued" in refused.json()["message"]
    export, content = run_export(client, django_capture_on_commit_callbacks, "messages", "csv")
    assert export["size"] == len(content) and export["rows"] == 0
    verbs = set(AuditEvent.objects.filter(account=account).values_list("verb", flat=True))
    assert {"export.created", "export.downloaded"} <= verbs


def test_viewers_may_export_but_read_only_tokens_may_not(api, account, django_capture_on_commit_callbacks):
    message(account)
    export, content = run_export(api("viewer"), django_capture_on_commit_callbacks, "messages", "xlsx")
    assert export["rows"] == 1 and export["created_by"] == "api-viewer@acme-retail.example"
    assert api(read_only=True).post(API, {"kind": "messages"}, format="json").status_code == 403
    listed = api().get(API).json()
    assert [item["id"] for item in listed["data"]] == [export["id"]] and listed["meta"]["total"] == 1
    assert body_of(api().get(f"{API}/{export['id']}/download")) == content
