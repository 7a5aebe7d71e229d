"""Inputs that used to reach the database and answer 500: empty id lists and NUL characters (issue 16)."""

import pytest

from contacts.models import Contact, Group
from portal.api.input_guard import find_nul

NUL = "\x00"


def test_find_nul_names_the_first_field_holding_one():
    assert find_nul({"a": "ok", "b": {"c": ["x", "y" + NUL]}}) == "b.c"
    assert find_nul({"ok" + NUL: 1}) == "ok\x00"
    assert find_nul(["fine", {"n": 3}]) is None
    assert find_nul("plain") is None


@pytest.mark.django_db
def test_bulk_tag_and_group_add_with_an_empty_id_list_are_refused(api, account):
    client = api()
    group = Group.objects.create(account=account, name="VIP")
    contact = Contact.objects.create(account=account, first_name="Ana")
    for body in ({"action": "tag", "ids": [], "tags": ["vip"]}, {"action": "group_add", "ids": [], "group": "VIP"}):
        answer = client.post("/api/v2/contacts/bulk", body, format="json")
        assert answer.status_code == 422, answer.content
        assert answer.json()["errors"]["ids"] == ["This list may not be empty."]
    answer = client.post(f"/api/v2/contacts/groups/{group.uid}/contacts", {"ids": []}, format="json")
    assert answer.status_code == 422
    assert not group.contacts.exists()
    answer = client.post(f"/api/v2/contacts/groups/{group.uid}/contacts", {"ids": [str(contact.uid)]}, format="json")
    assert answer.status_code == 200 and list(group.contacts.all()) == [contact]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "body", "named"),
    [
        ("get", "/api/v2/sms/dlr?mobile=%00", None, "query parameter 'mobile'"),
        ("get", "/api/v2/campaigns?filter[sender]=A%00", None, "query parameter 'filter[sender]'"),
        ("get", "/api/v2/sms/templates/%00", None, "URL part 'id'"),
        ("post", "/api/v2/sms/templates/match", {"sender": "ACME" + NUL, "message": "hi"}, "field 'sender'"),
        ("post", "/api/v2/sms/templates/validate", {"body": "Hi", "sender": NUL}, "field 'sender'"),
        ("post", "/api/v2/campaigns", {"name": "x", "sender": NUL, "template": "t"}, "field 'sender'"),
        ("post", "/api/v2/sms/templates", {"name": "t", "body": "Hi", "sender": {"name": NUL}}, "field 'sender.name'"),
    ],
)
def test_a_nul_character_anywhere_in_a_request_is_a_400_naming_where(api, method, path, body, named):
    answer = getattr(api(), method)(path, body, format="json") if body else getattr(api(), method)(path)
    assert answer.status_code == 400, answer.content
    payload = answer.json()
    assert payload["status"] != "OK"
    assert named in payload["message"] and "NUL character" in payload["message"]


@pytest.mark.django_db
def test_form_bodies_are_checked_and_uploaded_files_are_left_alone(api):
    client = api()
    answer = client.post("/api/v2/contacts", {"first_name": "A" + NUL}, format="multipart")
    assert answer.status_code == 400 and "'first_name'" in answer.json()["message"]
