"""Contact, tag, group and segment pages: rendering, HTMX partials, roles, masking, bulk actions, export, isolation."""

import csv
import io

import pytest
from openpyxl import load_workbook

from contacts.models import Contact, ContactTag, Group, GroupMember, Segment, Tag
from portal.models import Event, Export

pytestmark = pytest.mark.django_db


def make_contacts(account, count, *, tag=None, group=None, prefix="+9198765"):
    contacts = Contact.objects.bulk_create(
        Contact(account=account, phone=f"{prefix}{n:05d}", first_name=f"Person{n:03d}", country="IN")
        for n in range(count)
    )
    if tag:
        ContactTag.objects.bulk_create(ContactTag(contact=c, tag=tag) for c in contacts)
    if group:
        GroupMember.objects.bulk_create(GroupMember(contact=c, group=group) for c in contacts)
    return contacts


# --- list -----------------------------------------------------------------------------------------------


def test_list_search_filters_and_htmx_partial(client_for, marketer, account):
    vip = Tag.objects.create(account=account, name="VIP")
    make_contacts(account, 3, tag=vip)
    Contact.objects.create(account=account, phone="+447400123456", first_name="Olivia", country="GB")
    client = client_for(marketer)
    page = client.get("/contacts/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<html" in html and 'hx-push-url="true"' in html
    assert "4 contacts" in html
    assert "3 contacts" in client.get(f"/contacts/?tag={vip.uid}").content.decode()
    assert "1 contact<" in client.get("/contacts/?country=gb").content.decode()
    assert "1 contact<" in client.get("/contacts/?q=olivia").content.decode()
    assert "1 contact<" in client.get("/contacts/?q=7400123456").content.decode()
    partial = client.get("/contacts/?q=Person", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in partial
    assert partial.lstrip().startswith('<div id="contact-rows">')
    assert "3 contacts" in partial
    assert 'formaction="/contacts/export/"' in partial and 'name="query" value="q=Person"' in partial


def test_list_pagination_keeps_the_filters_in_the_links(client_for, viewer, account):
    make_contacts(account, 60)
    html = client_for(viewer).get("/contacts/?country=IN&sort=first_name").content.decode()
    assert "Page 1 of 2" in html
    assert 'hx-get="?country=IN&amp;sort=first_name&amp;page=2"' in html
    second = client_for(viewer).get("/contacts/?country=IN&sort=first_name&page=2").content.decode()
    assert "Person059" in second and "Person000" not in second


@pytest.mark.parametrize("count", [5, 50])
def test_list_query_count_does_not_grow_with_rows(client_for, marketer, account, count, django_assert_max_num_queries):
    tags = [Tag.objects.create(account=account, name=f"t{n}") for n in range(3)]
    group = Group.objects.create(account=account, name="g")
    for tag in tags:
        make_contacts(account, 0, tag=tag)
    contacts = make_contacts(account, count, tag=tags[0], group=group)
    ContactTag.objects.bulk_create(ContactTag(contact=c, tag=tags[1]) for c in contacts)
    client = client_for(marketer)
    with django_assert_max_num_queries(16):
        response = client.get("/contacts/")
    assert response.status_code == 200


def exported(client, capture, query: str, file_format: str = "csv") -> bytes:
    """The file of an export started with the list's Export button (POST /contacts/export/), run by its job."""
    with capture(execute=True):
        response = client.post("/contacts/export/", {"format": file_format, "query": query})
    assert response.status_code == 302 and response["Location"] == "/settings/exports/"
    export = Export.objects.latest("created_at")
    assert export.state == "done", export.error
    return b"".join(client.get(f"/settings/exports/{export.uid}/download/").streaming_content)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_mobile_secure_masks_numbers_in_list_detail_and_export(
    client_for, admin_user, account, django_capture_on_commit_callbacks
):
    account.mobile_secure = True
    account.save()
    contact = Contact.objects.create(account=account, phone="+919876543210", first_name="Asha")
    client = client_for(admin_user)
    assert "+91987654XXXX" in client.get("/contacts/").content.decode()
    assert "+919876543210" not in client.get("/contacts/").content.decode()
    detail = client.get(f"/contacts/{contact.uid}/").content.decode()
    assert "+91987654XXXX" in detail and "+919876543210" not in detail
    text = exported(client, django_capture_on_commit_callbacks, "").decode("utf-8-sig")
    assert "+919876543210" not in text
    assert "+91987654XXXX" in text


# --- detail and forms -----------------------------------------------------------------------------------


def test_detail_shows_identifiers_tags_groups_attributes_and_opt_outs(client_for, marketer, account):
    from contacts.models import Unsubscriber

    contact = Contact.objects.create(account=account, phone="+919876543210", attributes={"city": "Pune"})
    tag = Tag.objects.create(account=account, name="VIP")
    ContactTag.objects.create(contact=contact, tag=tag)
    Unsubscriber.objects.create(account=account, receiver=contact.phone, type="all")
    client = client_for(marketer)
    added = client.post(f"/contacts/{contact.uid}/identifiers/", {"type": "email", "value": "a@example.com"})
    assert added.status_code == 302
    html = client.get(f"/contacts/{contact.uid}/").content.decode()
    for expected in ("VIP", "Pune", "a@example.com", "opted out", "Message history"):
        assert expected in html


def test_create_edit_and_delete_contact_through_forms(
    client_for, marketer, account, django_capture_on_commit_callbacks
):
    group = Group.objects.create(account=account, name="Newsletter")
    client = client_for(marketer)
    invalid = client.post("/contacts/new/", {"phone": "98765"})
    assert invalid.status_code == 422
    assert "too short for IN" in invalid.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/contacts/new/",
            {
                "phone": "98765 43210",
                "first_name": "Asha",
                "tags": "vip, new",
                "groups": [group.pk],
                "attributes": '{"city": "Pune"}',
            },
        )
    assert created.status_code == 302
    contact = Contact.objects.get(account=account)
    assert contact.phone == "+919876543210"
    assert sorted(contact.tags.values_list("name", flat=True)) == ["new", "vip"]
    assert list(contact.groups.all()) == [group]
    duplicate = client.post("/contacts/new/", {"phone": "+919876543210"})
    assert duplicate.status_code == 422 and "already exists" in duplicate.content.decode()
    edit_page = client.get(f"/contacts/{contact.uid}/edit/").content.decode()
    assert "new, vip" in edit_page
    with django_capture_on_commit_callbacks(execute=True):
        edited = client.post(f"/contacts/{contact.uid}/edit/", {"phone": "+919876543210", "last_name": "Rao"})
    assert edited.status_code == 302
    contact.refresh_from_db()
    assert contact.last_name == "Rao" and contact.tags.count() == 0
    assert "Delete contact" in client.get(f"/contacts/{contact.uid}/delete/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/contacts/{contact.uid}/delete/")
    assert not Contact.objects.filter(pk=contact.pk).exists()
    actions = [e.payload["action"] for e in Event.objects.filter(account=account).order_by("id")]
    assert actions == ["created", "updated", "deleted"]


def test_viewer_is_read_only(client_for, viewer, account):
    contact = Contact.objects.create(account=account, phone="+919876543210")
    tag = Tag.objects.create(account=account, name="VIP")
    client = client_for(viewer)
    html = client.get("/contacts/").content.decode()
    assert "Add contact" not in html and "bulk-form" in html and 'name="action"' not in html
    assert client.get(f"/contacts/{contact.uid}/").status_code == 200
    assert client.get("/contacts/new/").status_code == 403
    assert client.post("/contacts/new/", {"phone": "9876543211"}).status_code == 403
    assert client.post(f"/contacts/{contact.uid}/delete/").status_code == 403
    assert (
        client.post("/contacts/bulk/", {"action": "delete", "ids": [str(contact.uid)], "confirm": "yes"}).status_code
        == 403
    )
    assert client.post("/contacts/tags/", {"name": "x"}).status_code == 403
    assert client.post(f"/contacts/tags/{tag.uid}/delete/").status_code == 403
    assert client.get("/contacts/segments/new/").status_code == 403
    assert Contact.objects.filter(pk=contact.pk).exists()


# --- bulk actions ---------------------------------------------------------------------------------------


def test_bulk_tag_selected_asks_for_confirmation_first(client_for, marketer, account):
    contacts = make_contacts(account, 3)
    client = client_for(marketer)
    form = {"action": "tag", "tag": "promo", "scope": "selected", "ids": [str(c.uid) for c in contacts[:2]]}
    confirm = client.post("/contacts/bulk/", form)
    assert confirm.status_code == 200
    assert "Add the tag “promo” to 2 contacts" in confirm.content.decode()
    assert not ContactTag.objects.exists()
    done = client.post("/contacts/bulk/", {**form, "confirm": "yes"})
    assert done.status_code == 302
    assert ContactTag.objects.filter(tag__name="promo").count() == 2


def test_bulk_group_and_delete_all_matching_filter(client_for, marketer, account, other_account):
    make_contacts(account, 4)
    Contact.objects.create(account=account, phone="+447400123456", country="GB")
    foreign = make_contacts(other_account, 2, prefix="+9198764")
    group = Group.objects.create(account=account, name="India")
    client = client_for(marketer)
    base = {"scope": "all", "query": "country=IN", "confirm": "yes"}
    client.post("/contacts/bulk/", {**base, "action": "group_add", "group": str(group.uid)})
    assert GroupMember.objects.filter(group=group).count() == 4
    client.post("/contacts/bulk/", {**base, "action": "delete"})
    assert Contact.objects.filter(account=account).count() == 1
    ids = [str(c.uid) for c in foreign]
    client.post("/contacts/bulk/", {"action": "delete", "scope": "selected", "ids": ids, "confirm": "yes"})
    assert Contact.objects.filter(account=other_account).count() == 2
    missing = client.post("/contacts/bulk/", {"action": "tag", "scope": "selected"})
    assert missing.status_code == 302


# --- export ---------------------------------------------------------------------------------------------


def test_export_group_as_csv_and_segment_as_xlsx(client_for, viewer, account, django_capture_on_commit_callbacks):
    vip = Tag.objects.create(account=account, name="VIP")
    group = Group.objects.create(account=account, name="G")
    members = make_contacts(account, 3, tag=vip, group=group)
    Contact.objects.filter(pk=members[0].pk).update(first_name="=HYPERLINK(1)", attributes={"k": "v"})
    make_contacts(account, 2, prefix="+9198764")
    segment = Segment.objects.create(account=account, name="VIPs")
    segment.positive_tags.set([vip])
    client = client_for(viewer)
    content = exported(client, django_capture_on_commit_callbacks, f"group={group.uid}&sort=phone&page=2")
    assert Export.objects.get(format="csv").filters == {"group": str(group.uid)}
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert {row["phone"] for row in rows} == {c.phone for c in members}
    assert {row["tags"] for row in rows} == {"VIP"}
    assert "'=HYPERLINK(1)" in {row["first_name"] for row in rows}
    xlsx = exported(client, django_capture_on_commit_callbacks, f"segment={segment.uid}", "xlsx")
    sheet = load_workbook(io.BytesIO(xlsx)).active
    table = list(sheet.iter_rows(values_only=True))
    header = table[0]
    assert len(table) == 4
    phones = {row[header.index("phone")] for row in table[1:]}
    assert phones == {c.phone for c in members}
    assert all(cell.data_type != "f" for cells in sheet.iter_rows() for cell in cells)
    refused = client.post("/contacts/export/", {"format": "pdf", "query": ""}, follow=True)
    assert "format: Choose one of csv, xlsx." in refused.content.decode()
    assert Export.objects.count() == 2
    assert 'value="segment=' in client.get("/contacts/segments/").content.decode()


# --- tags, groups, segments -----------------------------------------------------------------------------


def test_tag_and_group_pages_add_rename_delete_keep_contacts(client_for, marketer, account):
    client = client_for(marketer)
    assert client.post("/contacts/tags/", {"name": "VIP"}).status_code == 302
    assert client.post("/contacts/tags/", {"name": "vip"}).status_code == 422
    tag = Tag.objects.get(account=account)
    make_contacts(account, 2, tag=tag)
    listing = client.get("/contacts/tags/").content.decode()
    assert "VIP" in listing and "<td>2</td>" in listing
    assert client.post(f"/contacts/tags/{tag.uid}/edit/", {"name": "Gold"}).status_code == 302
    client.post(f"/contacts/tags/{tag.uid}/delete/")
    assert not Tag.objects.exists() and Contact.objects.count() == 2
    assert client.post("/contacts/groups/", {"name": "Newsletter", "description": "Weekly"}).status_code == 302
    group = Group.objects.get(account=account)
    assert "Weekly" in client.get("/contacts/groups/").content.decode()
    client.post(f"/contacts/groups/{group.uid}/delete/")
    assert not Group.objects.exists() and Contact.objects.count() == 2


def test_segment_builder_preview_save_and_list_count(client_for, marketer, account):
    a = Tag.objects.create(account=account, name="a")
    b = Tag.objects.create(account=account, name="b")
    make_contacts(account, 3, tag=a)
    make_contacts(account, 2, tag=b, prefix="+9198764")
    client = client_for(marketer)
    assert "segment-builder" in client.get("/contacts/segments/new/").content.decode()
    preview = client.post("/contacts/segments/preview/", {"positive_tags": [a.pk], "positive_tags_operator": "any"})
    assert ">3 contacts<" in preview.content.decode()
    both = client.post("/contacts/segments/preview/", {"positive_tags": [a.pk, b.pk], "positive_tags_operator": "any"})
    assert ">5 contacts<" in both.content.decode()
    none = client.post(
        "/contacts/segments/preview/",
        {"positive_tags": [a.pk], "negative_tags": [a.pk], "condition_0_key": "city", "condition_0_operator": "exists"},
    )
    assert ">0 contacts<" in none.content.decode()
    saved = client.post(
        "/contacts/segments/new/",
        {"name": "A people", "positive_tags": [a.pk], "positive_tags_operator": "any", "negative_tags_operator": "any"},
    )
    assert saved.status_code == 302
    segment = Segment.objects.get(account=account)
    assert saved["Location"].endswith(f"?segment={segment.uid}")
    assert "3 contacts" in client.get(saved["Location"]).content.decode()
    assert "A people" in client.get("/contacts/segments/").content.decode()
    assert ">3 contacts<" in client.get(f"/contacts/segments/{segment.uid}/count/").content.decode()
    edit = client.get(f"/contacts/segments/{segment.uid}/edit/").content.decode()
    assert "3 contacts" in edit
    client.post(f"/contacts/segments/{segment.uid}/delete/")
    assert not Segment.objects.exists()


# --- isolation ------------------------------------------------------------------------------------------


def test_another_accounts_objects_are_404_in_pages(client_for, admin_user, account, other_account):
    contact = Contact.objects.create(account=other_account, phone="+447400123456")
    tag = Tag.objects.create(account=other_account, name="theirs")
    group = Group.objects.create(account=other_account, name="theirs")
    segment = Segment.objects.create(account=other_account, name="theirs")
    client = client_for(admin_user)
    for path in (
        f"/contacts/{contact.uid}/",
        f"/contacts/{contact.uid}/edit/",
        f"/contacts/{contact.uid}/delete/",
        f"/contacts/tags/{tag.uid}/edit/",
        f"/contacts/groups/{group.uid}/delete/",
        f"/contacts/segments/{segment.uid}/edit/",
        f"/contacts/segments/{segment.uid}/count/",
    ):
        assert client.get(path).status_code == 404, path
    assert client.post(f"/contacts/{contact.uid}/delete/").status_code == 404
    assert "No contacts match" in client.get(f"/contacts/?tag={tag.uid}").content.decode()
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_list_count_is_capped_for_large_results(client_for, viewer, account, monkeypatch):
    from contacts.views import contacts as contact_views

    monkeypatch.setattr(contact_views, "COUNT_CAP", 5)
    monkeypatch.setattr(contact_views, "PAGE_SIZE", 2)
    make_contacts(account, 8)
    html = client_for(viewer).get("/contacts/").content.decode()
    assert "More than 5 contacts" in html
    assert "Page 1 of 3+" in html
    narrowed = client_for(viewer).get("/contacts/?q=Person000").content.decode()
    assert "1 contact<" in narrowed and "More than" not in narrowed
