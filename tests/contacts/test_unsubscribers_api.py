import io

import pytest
from openpyxl import Workbook

from contacts.models.unsubscribers import Unsubscriber
from contacts.services_unsubscribers import add_unsubscriber
from portal.models import AuditEvent

URL = "/api/v2/sms/unsubscribers"


@pytest.fixture
def admin_api(api):
    return api()


def create(client, **data):
    return client.post(URL, {"receiver": "9876543210", **data}, format="json")


def test_create_normalises_and_returns_the_envelope(admin_api, account):
    response = create(admin_api, type="tag", value="tag1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["message"]) == ("OK", "Receiver added successfully")
    data = body["data"]
    assert (data["receiver"], data["iso"], data["type"], data["value"], data["source"]) == (
        "+919876543210",
        "IN",
        "tag",
        "tag1",
        "api",
    )
    assert Unsubscriber.objects.get(uid=data["id"]).account == account
    assert AuditEvent.objects.filter(account=account, verb="unsubscriber.created").count() == 1


def test_type_defaults_to_all_and_service_means_product(admin_api):
    assert create(admin_api).json()["data"]["type"] == "all"
    assert create(admin_api, type="service", value="OTP").json()["data"]["type"] == "product"


def test_duplicate_in_any_format_is_a_conflict(admin_api):
    assert create(admin_api, receiver="+91 98765 43210").status_code == 201
    for raw in ["919876543210", "09876543210"]:
        response = create(admin_api, receiver=raw)
        assert response.status_code == 409
        assert response.json()["status"] == "error"
    assert create(admin_api, receiver="09876543210", type="sender", value="ACMEBK").status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"receiver": "12"}, "receiver"),
        ({"receiver": "9876543210", "type": "sender"}, "value"),
        ({"receiver": "9876543210", "type": "tag", "value": "  "}, "value"),
        ({"receiver": "9876543210", "type": "group", "value": "x"}, "type"),
        ({}, "receiver"),
    ],
)
def test_invalid_input_is_422_naming_the_field(admin_api, payload, field):
    response = admin_api.post(URL, payload, format="json")
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_retrieve_update_delete(admin_api, account):
    uid = create(admin_api, type="tag", value="vip").json()["data"]["id"]
    detail = admin_api.get(f"{URL}/{uid}")
    assert detail.json()["message"] == "Unsubscribers data"
    updated = admin_api.put(f"{URL}/{uid}", {"receiver": "+919876543211", "type": "sender", "value": "ACMEBK"})
    assert updated.status_code == 200, updated.content
    assert (updated.json()["data"]["receiver"], updated.json()["data"]["type"]) == ("+919876543211", "sender")
    patched = admin_api.patch(f"{URL}/{uid}", {"type": "all"}, format="json")
    assert (patched.json()["data"]["type"], patched.json()["data"]["value"]) == ("all", "")
    deleted = admin_api.delete(f"{URL}/{uid}")
    assert deleted.status_code == 200
    assert deleted.json()["data"] == []
    assert not Unsubscriber.objects.filter(account=account).exists()
    verbs = set(AuditEvent.objects.filter(account=account).values_list("verb", flat=True))
    assert {"unsubscriber.created", "unsubscriber.updated", "unsubscriber.deleted"} <= verbs


def test_update_onto_an_existing_opt_out_is_a_conflict(admin_api):
    create(admin_api, receiver="9876543210")
    uid = create(admin_api, receiver="9876543211").json()["data"]["id"]
    response = admin_api.patch(f"{URL}/{uid}", {"receiver": "+919876543210"}, format="json")
    assert response.status_code == 409


def test_filters(admin_api, account, admin_user, other_account, outsider):
    add_unsubscriber(account, admin_user, receiver="+919876543210", type="all")
    add_unsubscriber(account, admin_user, receiver="+919876543211", type="sender", value="ACMEBK")
    add_unsubscriber(account, admin_user, receiver="+447400123456", type="tag", value="vip")
    add_unsubscriber(other_account, outsider, receiver="+447400123457", type="tag", value="vip")

    def receivers(**params):
        response = admin_api.get(URL, {f"filter[{k}]": v for k, v in params.items()})
        assert response.status_code == 200, response.content
        return sorted(row["receiver"] for row in response.json()["data"])

    assert receivers() == ["+447400123456", "+919876543210", "+919876543211"]
    assert receivers(iso="gb") == ["+447400123456"]
    assert receivers(type="sender") == ["+919876543211"]
    assert receivers(value="acmebk") == ["+919876543211"]
    assert receivers(receiver="09876543210") == ["+919876543210"]
    uid = str(Unsubscriber.objects.get(receiver="+447400123456").uid)
    assert receivers(id=uid) == ["+447400123456"]
    assert admin_api.get(URL, {"filter[colour]": "red"}).status_code == 422


def test_another_accounts_opt_out_is_404(admin_api, other_account, outsider):
    foreign, _ = add_unsubscriber(other_account, outsider, receiver="+447400123456")
    for method in ("get", "put", "patch", "delete"):
        response = getattr(admin_api, method)(f"{URL}/{foreign.uid}", {"receiver": "+447400123456"}, format="json")
        assert response.status_code == 404, method
    assert Unsubscriber.objects.filter(pk=foreign.pk).exists()


def test_clean_all_needs_no_parameters_and_answers_as_the_seed(admin_api, account, admin_user, other_account, outsider):
    add_unsubscriber(account, admin_user, receiver="+919876543210")
    add_unsubscriber(account, admin_user, receiver="+919876543211", type="tag", value="vip")
    add_unsubscriber(other_account, outsider, receiver="+447400123456")
    done = admin_api.delete(URL)
    assert done.status_code == 200
    assert done.json() == {"status": "OK", "code": 200, "message": "Deleted Successfully", "data": []}
    assert not Unsubscriber.objects.filter(account=account).exists()
    assert Unsubscriber.objects.filter(account=other_account).count() == 1
    event = AuditEvent.objects.filter(account=account, verb="unsubscriber.cleaned").get()
    assert (event.after["deleted"], event.after["batch"]) == (2, done["Clean-Batch"])


@pytest.mark.parametrize("role", ["viewer", "compliance"])
def test_read_only_roles_cannot_write(api, account, admin_user, role):
    existing, _ = add_unsubscriber(account, admin_user, receiver="+919876543210")
    client = api(role=role)
    assert client.get(URL).status_code == 200
    assert create(client, receiver="9876543299").status_code == 403
    assert client.delete(f"{URL}/{existing.uid}").status_code == 403
    assert client.delete(URL).status_code == 403
    assert client.post(f"{URL}/import", {"file": io.BytesIO(b"9876543211")}, format="multipart").status_code == 403
    assert Unsubscriber.objects.filter(account=account).count() == 1


def test_marketer_can_write(api):
    assert create(api(role="marketer")).status_code == 201


def upload(name: str, content: bytes):
    handle = io.BytesIO(content)
    handle.name = name
    return handle


def test_import_txt_list(admin_api, account):
    content = b"+91 98765 43210\n919876543210\n09876543211\n12\n\n"
    response = admin_api.post(f"{URL}/import", {"file": upload("list.txt", content)}, format="multipart")
    assert response.status_code == 202, response.content
    assert response.json()["message"] == "Receivers accepted for import"
    data = response.json()["data"]
    assert (data["state"], data["created"], data["duplicates"], data["failed"]) == ("done", 2, 1, 1)
    assert {error["code"] for error in data["errors"]} == {"duplicate", "invalid_phone"}
    assert set(Unsubscriber.objects.filter(account=account).values_list("source", flat=True)) == {"import"}
    assert AuditEvent.objects.filter(account=account, verb="unsubscriber.imported").get().after["created"] == 2


def test_import_only_adds(admin_api, account, admin_user):
    add_unsubscriber(account, admin_user, receiver="+919876543210", type="tag", value="VIP")
    content = b"number,type,value\n9876543210,tag,vip\n9876543210,all,\n"
    data = admin_api.post(f"{URL}/import", {"file": upload("l.csv", content)}, format="multipart").json()["data"]
    assert (data["created"], data["skipped"]) == (1, 1)
    assert Unsubscriber.objects.filter(account=account).count() == 2


def test_import_csv_with_type_and_value_columns(admin_api, account):
    content = b"mobile,type,value\n9876543210,sender,ACMEBK\n9876543211,,\n9876543212,tag,vip\n"
    response = admin_api.post(f"{URL}/import", {"file": upload("list.csv", content), "type": "all"}, format="multipart")
    assert response.json()["data"]["created"] == 3, response.content
    rows = set(Unsubscriber.objects.filter(account=account).values_list("receiver", "type", "value"))
    assert rows == {
        ("+919876543210", "sender", "ACMEBK"),
        ("+919876543211", "all", ""),
        ("+919876543212", "tag", "vip"),
    }


def test_import_xlsx(admin_api, account):
    book = Workbook()
    sheet = book.active
    sheet.append(["Phone"])
    sheet.append([919876543210])
    sheet.append(["+447400123456"])
    stream = io.BytesIO()
    book.save(stream)
    response = admin_api.post(
        f"{URL}/import",
        {"file": upload("list.xlsx", stream.getvalue()), "type": "product", "value": "PROMO"},
        format="multipart",
    )
    assert response.json()["data"]["created"] == 2, response.content
    assert set(Unsubscriber.objects.filter(account=account).values_list("receiver", "type")) == {
        ("+919876543210", "product"),
        ("+447400123456", "product"),
    }


@pytest.mark.parametrize(
    ("payload", "message"), [({}, "file"), ({"file": "pdf"}, "PDF document"), ({"type": "tag"}, "value")]
)
def test_import_rejects_missing_or_unsupported_files(admin_api, payload, message):
    if payload.get("file") == "pdf":
        payload = {"file": upload("list.pdf", b"%PDF")}
    elif payload:
        payload["file"] = upload("list.txt", b"9876543210")
    response = admin_api.post(f"{URL}/import", payload, format="multipart")
    assert response.status_code == 422
    assert message in str(response.json()["errors"])
    assert not Unsubscriber.objects.exists()


def test_large_imports_run_in_the_background(admin_api, account, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_INLINE_MAX_BYTES = 0
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_api.post(f"{URL}/import", {"file": upload("l.txt", b"9876543210\n")}, format="multipart")
    assert response.status_code == 202
    assert response.json()["data"]["state"] == "queued"
    assert Unsubscriber.objects.filter(account=account, receiver="+919876543210", source="import").exists()
