"""API: contacts, identifiers, tags, groups, segments, bulk actions; isolation, roles, events, query counts."""

import pytest

from contacts.models import Contact, ContactTag, Group, GroupMember, Identifier, Segment, Tag
from portal.models import AuditEvent, Event

pytestmark = pytest.mark.django_db

EVENT = "contacts:subscriber:subscription"


def make_contact(account, phone, **fields):
    return Contact.objects.create(account=account, phone=phone, **fields)


def tag_contact(contact, *names):
    for name in names:
        tag, _ = Tag.objects.get_or_create(account=contact.account, name=name)
        ContactTag.objects.get_or_create(contact=contact, tag=tag)


# --- contacts -------------------------------------------------------------------------------------------


def test_create_contact_normalises_phone_and_stores_number_facts(api, account, django_capture_on_commit_callbacks):
    client = api("marketer")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v2/contacts",
            {
                "phone": "098765 43210",
                "first_name": "Asha",
                "email": "asha@example.com",
                "attributes": {"city": "Pune"},
                "tags": ["VIP", "new"],
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == "Contact Saved Successfully"
    data = body["data"]
    assert data["phone"] == "+919876543210"
    assert (data["country"], data["number_type"], data["phone_valid"]) == ("IN", "mobile", True)
    assert len(data["identity"]) == 32
    assert data["tags"] == ["VIP", "new"]
    assert data["attributes"] == {"city": "Pune"}
    event = Event.objects.get(account=account, name=EVENT)
    assert event.payload["action"] == "created"
    assert event.payload["contact"]["phone"] == "+919876543210"


@pytest.mark.parametrize(
    ("phone", "reason"),
    [("98765", "too short for IN"), ("hello", "not a number"), ("+999 1234567", "invalid country code")],
)
def test_invalid_phone_is_422_with_reason(api, phone, reason):
    response = api("marketer").post("/api/v2/contacts", {"phone": phone}, format="json")
    assert response.status_code == 422
    assert response.json()["errors"]["phone"] == [f"Not a valid phone number: {reason}."]


def test_duplicate_phone_or_identity_is_409(api, account):
    make_contact(account, "+919876543210", identity="cust-1")
    client = api("marketer")
    assert client.post("/api/v2/contacts", {"phone": "9876543210"}, format="json").status_code == 409
    duplicate_identity = client.post("/api/v2/contacts", {"phone": "9876543211", "identity": "cust-1"}, format="json")
    assert duplicate_identity.status_code == 409


def test_invalid_email_and_attributes_are_422(api):
    client = api("marketer")
    bad_email = client.post("/api/v2/contacts", {"phone": "9876543210", "email": "nope"}, format="json")
    assert bad_email.status_code == 422
    assert "email" in bad_email.json()["errors"]
    bad_attributes = client.post("/api/v2/contacts", {"phone": "9876543210", "attributes": [1]}, format="json")
    assert bad_attributes.status_code == 422


def test_update_and_delete_emit_events(api, account, django_capture_on_commit_callbacks):
    contact = make_contact(account, "+919876543210")
    client = api("marketer")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(f"/api/v2/contacts/{contact.uid}", {"last_name": "Rao", "groups": []}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["last_name"] == "Rao"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v2/contacts/{contact.uid}").status_code == 200
    actions = list(Event.objects.filter(account=account, name=EVENT).order_by("id").values_list("payload", flat=True))
    assert [payload["action"] for payload in actions] == ["updated", "deleted"]
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_list_filters_sort_and_bounded_queries(api, account, django_assert_max_num_queries):
    for n in range(30):
        contact = make_contact(account, f"+9198765432{n:02d}", first_name=f"P{n:02d}", country="IN")
        tag_contact(contact, "even" if n % 2 == 0 else "odd", "all")
        group, _ = Group.objects.get_or_create(account=account, name=f"g{n % 3}")
        GroupMember.objects.create(group=group, contact=contact)
    client = api("viewer")
    with django_assert_max_num_queries(8):
        response = client.get("/api/v2/contacts?per_page=100&filter[tag]=even&sort=first_name")
    body = response.json()
    assert body["meta"]["total"] == 15
    assert [row["first_name"] for row in body["data"]][:3] == ["P00", "P02", "P04"]
    assert body["data"][0]["tags"] == ["all", "even"]
    assert client.get("/api/v2/contacts?filter[q]=P07").json()["meta"]["total"] == 1
    assert client.get("/api/v2/contacts?filter[q]=9876543207").json()["meta"]["total"] == 1
    assert client.get("/api/v2/contacts?filter[group]=g1").json()["meta"]["total"] == 10
    assert client.get("/api/v2/contacts?filter[tag]=missing").json()["meta"]["total"] == 0
    assert client.get("/api/v2/contacts?filter[nope]=1").status_code == 422
    assert client.get("/api/v2/contacts?sort=-attributes").status_code == 422


def test_viewer_and_read_only_token_cannot_write(api, account):
    contact = make_contact(account, "+919876543210")
    viewer = api("viewer")
    assert viewer.get(f"/api/v2/contacts/{contact.uid}").status_code == 200
    assert viewer.post("/api/v2/contacts", {"phone": "9876543211"}, format="json").status_code == 403
    assert viewer.delete(f"/api/v2/contacts/{contact.uid}").status_code == 403
    read_only = api("admin", read_only=True)
    assert read_only.post("/api/v2/contacts/tags", {"name": "x"}, format="json").status_code == 403


# --- isolation ------------------------------------------------------------------------------------------


def test_another_accounts_objects_are_404(api, account, other_account):
    contact = make_contact(other_account, "+447400123456")
    tag = Tag.objects.create(account=other_account, name="theirs")
    group = Group.objects.create(account=other_account, name="theirs")
    segment = Segment.objects.create(account=other_account, name="theirs")
    client = api("admin")
    for path in (
        f"/api/v2/contacts/{contact.uid}",
        f"/api/v2/contacts/{contact.uid}/identifiers",
        f"/api/v2/contacts/tags/{tag.uid}",
        f"/api/v2/contacts/groups/{group.uid}",
        f"/api/v2/contacts/groups/{group.uid}/contacts",
        f"/api/v2/contacts/segments/{segment.uid}",
        f"/api/v2/contacts/segments/{segment.uid}/subscribers",
    ):
        assert client.get(path).status_code == 404, path
    assert client.delete(f"/api/v2/contacts/{contact.uid}").status_code == 404
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_another_accounts_contact_cannot_be_added_to_your_group(api, account, other_account):
    mine = Group.objects.create(account=account, name="mine")
    own = make_contact(account, "+919876543210")
    foreign = make_contact(other_account, "+447400123456")
    response = api("marketer").post(
        f"/api/v2/contacts/groups/{mine.uid}/contacts", {"ids": [str(own.uid), str(foreign.uid)]}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"added": 1}
    assert list(GroupMember.objects.filter(group=mine).values_list("contact_id", flat=True)) == [own.pk]


# --- identifiers ----------------------------------------------------------------------------------------


def test_identifiers_nested_crud(api, account):
    contact = make_contact(account, "+919876543210")
    client = api("marketer")
    base = f"/api/v2/contacts/{contact.uid}/identifiers"
    created = client.post(base, {"type": "whatsapp", "value": "098765 43210"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["data"]["value"] == "098765 43210"
    phone = client.post(base, {"type": "phone", "value": "098765 43210"}, format="json")
    assert phone.json()["data"]["value"] == "+919876543210"
    assert client.post(base, {"type": "phone", "value": "9876543210"}, format="json").status_code == 409
    assert client.post(base, {"type": "fax", "value": "1"}, format="json").status_code == 422
    iid = created.json()["data"]["id"]
    updated = client.patch(f"{base}/{iid}", {"value": "wa-42"}, format="json")
    assert updated.json()["data"]["value"] == "wa-42"
    assert client.get(base).json()["meta"]["total"] == 2
    everyone = client.get("/api/v2/contacts/identifiers?filter[type]=phone").json()
    assert [row["contact"] for row in everyone["data"]] == [str(contact.uid)]
    assert client.delete(f"{base}/{iid}").status_code == 200
    assert Identifier.objects.filter(contact=contact).count() == 1
    assert AuditEvent.objects.filter(account=account, verb="identifier.deleted").count() == 1


# --- tags and groups ------------------------------------------------------------------------------------


def test_tags_crud_with_counts_and_delete_keeps_contacts(api, account):
    contacts = [make_contact(account, f"+91987654321{n}") for n in range(3)]
    client = api("marketer")
    created = client.post("/api/v2/contacts/tags", {"name": "VIP"}, format="json")
    assert created.status_code == 201
    assert client.post("/api/v2/contacts/tags", {"name": "vip"}, format="json").status_code == 409
    tag = Tag.objects.get(account=account, name="VIP")
    ContactTag.objects.bulk_create(ContactTag(contact=c, tag=tag) for c in contacts[:2])
    listed = client.get("/api/v2/contacts/tags").json()
    assert [(row["name"], row["contacts_count"]) for row in listed["data"]] == [("VIP", 2)]
    assert client.patch(f"/api/v2/contacts/tags/{tag.uid}", {"name": "Gold"}, format="json").status_code == 200
    assert client.delete(f"/api/v2/contacts/tags/{tag.uid}").status_code == 200
    assert Contact.objects.filter(account=account).count() == 3


def test_group_members_add_by_filter_list_and_remove(api, account):
    for n in range(6):
        contact = make_contact(account, f"+91987654321{n}", first_name=f"n{n}")
        tag_contact(contact, "even" if n % 2 == 0 else "odd")
    client = api("marketer")
    group_id = client.post("/api/v2/contacts/groups", {"name": "Evens"}, format="json").json()["data"]["id"]
    members = f"/api/v2/contacts/groups/{group_id}/contacts"
    added = client.post(members, {"filter": {"tag": "even"}}, format="json")
    assert added.json()["data"] == {"added": 3}
    assert client.post(members, {"filter": {"tag": "even"}}, format="json").json()["data"] == {"added": 0}
    assert client.get(members).json()["meta"]["total"] == 3
    assert client.get(f"/api/v2/contacts/groups/{group_id}").json()["data"]["contacts_count"] == 3
    one = Contact.objects.get(first_name="n0")
    removed = client.delete(members, {"ids": [str(one.uid)]}, format="json")
    assert removed.json()["data"] == {"removed": 1}
    assert client.post(members, {}, format="json").status_code == 422
    assert client.post(members, {"filter": {"bogus": "1"}}, format="json").status_code == 422
    assert api("viewer").post(members, {"ids": [str(one.uid)]}, format="json").status_code == 403
    assert client.delete(f"/api/v2/contacts/groups/{group_id}").status_code == 200
    assert Contact.objects.filter(account=account).count() == 6


# --- segments -------------------------------------------------------------------------------------------


def test_segment_crud_count_and_subscribers(api, account):
    for n, tags in enumerate([("a",), ("b",), ("a", "c"), ("c",), ()]):
        tag_contact(make_contact(account, f"+91987654321{n}", first_name=f"n{n}"), *tags)
    client = api("marketer")
    payload = {
        "name": "A or B, not C",
        "positive_tags": ["a", "B"],
        "positive_tags_operator": "any",
        "negative_tags": ["c"],
        "negative_tags_operator": "any",
    }
    created = client.post("/api/v2/contacts/segments", payload, format="json")
    assert created.status_code == 201, created.json()
    segment_id = created.json()["data"]["id"]
    detail = client.get(f"/api/v2/contacts/segments/{segment_id}").json()["data"]
    assert detail["count"] == 2
    assert detail["positive_tags"] == ["a", "b"]
    subscribers = client.get(f"/api/v2/contacts/segments/{segment_id}/subscribers").json()
    assert sorted(row["first_name"] for row in subscribers["data"]) == ["n0", "n1"]
    changed = client.patch(f"/api/v2/contacts/segments/{segment_id}", {"negative_tags": []}, format="json")
    assert changed.status_code == 200
    assert changed.json()["data"]["positive_tags"] == ["a", "b"]
    assert client.get(f"/api/v2/contacts/segments/{segment_id}").json()["data"]["count"] == 3
    unknown = client.post("/api/v2/contacts/segments", {"name": "x", "positive_tags": ["zzz"]}, format="json")
    assert unknown.status_code == 422
    bad_condition = client.post(
        "/api/v2/contacts/segments", {"name": "y", "conditions": [{"key": "k", "operator": "regex"}]}, format="json"
    )
    assert bad_condition.status_code == 422
    assert client.post("/api/v2/contacts/segments", {"name": "a or b, NOT c"}, format="json").status_code == 409
    assert client.delete(f"/api/v2/contacts/segments/{segment_id}").status_code == 200


def test_segment_subscribers_can_leave_out_opted_out_numbers(api, account):
    from contacts.models import Unsubscriber

    first = make_contact(account, "+919876543210")
    tag_contact(first, "a")
    tag_contact(make_contact(account, "+919876543211"), "a")
    Unsubscriber.objects.create(account=account, receiver=first.phone, type="all")
    segment = Segment.objects.create(account=account, name="A")
    segment.positive_tags.set(Tag.objects.filter(account=account, name="a"))
    client = api("viewer")
    path = f"/api/v2/contacts/segments/{segment.uid}/subscribers"
    assert client.get(path).json()["meta"]["total"] == 2
    assert client.get(path + "?exclude_opted_out=1").json()["meta"]["total"] == 1


# --- bulk -----------------------------------------------------------------------------------------------


def test_bulk_tag_untag_and_delete(api, account, other_account, django_capture_on_commit_callbacks):
    mine = [make_contact(account, f"+91987654321{n}", country="IN") for n in range(4)]
    foreign = make_contact(other_account, "+447400123456", country="GB")
    client = api("marketer")
    tagged = client.post(
        "/api/v2/contacts/bulk", {"action": "tag", "tags": ["promo"], "filter": {"country": "IN"}}, format="json"
    )
    assert tagged.json()["data"] == {"tagged": 4}
    untagged = client.post(
        "/api/v2/contacts/bulk", {"action": "untag", "tags": ["promo"], "ids": [str(mine[0].uid)]}, format="json"
    )
    assert untagged.json()["data"] == {"untagged": 1}
    with django_capture_on_commit_callbacks(execute=True):
        deleted = client.post(
            "/api/v2/contacts/bulk",
            {"action": "delete", "ids": [str(mine[1].uid), str(foreign.uid)]},
            format="json",
        )
    assert deleted.json()["data"] == {"deleted": 1}
    assert Contact.objects.filter(pk=foreign.pk).exists()
    assert Event.objects.filter(account=account, name=EVENT, payload__action="deleted").count() == 1
    assert client.post("/api/v2/contacts/bulk", {"action": "tag", "ids": []}, format="json").status_code == 422
    assert (
        api("viewer").post("/api/v2/contacts/bulk", {"action": "delete", "ids": []}, format="json").status_code == 403
    )
