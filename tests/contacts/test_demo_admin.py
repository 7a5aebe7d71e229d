"""Demo loader and admin pages of the contacts app."""

import time

import pytest

from contacts import demo
from contacts.audience import resolve_audience
from contacts.models import Contact, ContactTag, Group, GroupMember, Segment

pytestmark = pytest.mark.django_db


def test_demo_loads_thousands_of_contacts_fast_and_once(account, admin_user):
    started = time.monotonic()
    demo.load(account, admin_user)
    assert time.monotonic() - started < 20
    contacts = Contact.objects.filter(account=account)
    assert contacts.count() >= 2900
    assert contacts.filter(country="GB").exists() and contacts.filter(number_type="mobile").exists()
    assert ContactTag.objects.filter(contact__account=account).count() > 3000
    assert GroupMember.objects.filter(group__account=account).count() > 1000
    assert Group.objects.filter(account=account).count() == 4
    for segment in Segment.objects.filter(account=account):
        assert 0 < resolve_audience(account, segments=[segment]).count() < contacts.count()
    demo.load(account, admin_user)
    assert Segment.objects.filter(account=account).count() == 2


def test_admin_pages_render(client, account):
    from tests.conftest import make_user

    staff = make_user("root@platform.example", staff=True)
    staff.is_superuser = True
    staff.save()
    Contact.objects.create(account=account, phone="+919876543210")
    client.force_login(staff)
    for name in ("contact", "identifier", "tag", "group", "segment", "contacttag", "groupmember"):
        assert client.get(f"/admin/contacts/{name}/").status_code == 200, name
