"""In Chromium: build a segment in the builder, watch the live count change, save it and see its contacts."""

import pytest
from playwright.sync_api import expect

from contacts.models import Contact, ContactTag, Tag

pytestmark = pytest.mark.browser


def tagged_contacts(account, tag, count, first_number):
    contacts = Contact.objects.bulk_create(
        Contact(account=account, phone=f"+91987654{first_number + n:04d}", first_name=f"{tag.name}-{n}")
        for n in range(count)
    )
    ContactTag.objects.bulk_create(ContactTag(contact=contact, tag=tag) for contact in contacts)
    return contacts


def test_build_a_segment_and_see_the_count_change(page, login, marketer, account):
    vip = Tag.objects.create(account=account, name="vip")
    news = Tag.objects.create(account=account, name="newsletter")
    churn = Tag.objects.create(account=account, name="churn-risk")
    tagged_contacts(account, vip, 3, 0)
    tagged_contacts(account, news, 2, 100)
    both_churn = tagged_contacts(account, churn, 1, 200)
    ContactTag.objects.create(contact=both_churn[0], tag=vip)

    login(marketer)
    page.get_by_role("link", name="Segments").click()
    page.get_by_role("button", name="New segment").first.click()
    count = page.get_by_test_id("segment-count")
    expect(count).to_have_text("—")

    page.get_by_test_id("positive-tags").get_by_label("vip").check()
    expect(count).to_have_text("4 contacts")
    page.get_by_test_id("positive-tags").get_by_label("newsletter").check()
    expect(count).to_have_text("6 contacts")
    page.get_by_test_id("negative-tags").get_by_label("churn-risk").check()
    expect(count).to_have_text("5 contacts")
    page.get_by_label("all of").first.check()
    expect(count).to_have_text("0 contacts")
    page.get_by_label("any of").first.check()
    expect(count).to_have_text("5 contacts")

    page.get_by_label("Name").fill("Engaged, not churning")
    page.get_by_role("button", name="Save segment").click()
    expect(page.get_by_test_id("contact-count")).to_have_text("5 contacts")
    assert "segment=" in page.url

    page.get_by_role("link", name="Segments").click()
    expect(page.get_by_test_id("segment-table")).to_contain_text("Engaged, not churning")
    expect(page.get_by_test_id("segment-table").get_by_test_id("segment-count")).to_have_text("5 contacts")
