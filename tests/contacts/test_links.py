"""Link tables without foreign-key constraints stay consistent (contacts.links): deletes take the links with
them, and writers and deleters running at the same time leave no link to a deleted row."""

import threading
from contextlib import contextmanager

import pytest
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import RequestFactory

from contacts.importing.targets import ContactTarget
from contacts.links import lock_for_delete, lock_for_linking
from contacts.models import Contact, ContactTag, Group, GroupMember, ImportState, Tag
from contacts.services import (
    add_tags,
    add_to_group,
    create_contact,
    delete_contact,
    delete_contacts,
    delete_named,
    save_named,
)
from contacts.services_imports import create_import, start_import


def orphan_links() -> int:
    """Links whose contact, tag or group is gone."""
    tags = ContactTag.objects.exclude(contact_id__in=Contact.objects.values("id")).count()
    tags += ContactTag.objects.exclude(tag_id__in=Tag.objects.values("id")).count()
    members = GroupMember.objects.exclude(contact_id__in=Contact.objects.values("id")).count()
    members += GroupMember.objects.exclude(group_id__in=Group.objects.values("id")).count()
    return tags + members


@pytest.fixture
def linked(account, marketer):
    """Two contacts, both tagged "vip" and in group "Leads"."""
    group = save_named(Group, account, marketer, name="Leads")
    contacts = [
        create_contact(account, marketer, phone=phone, tags=["vip"], groups=[group])
        for phone in ("+447400123456", "+447400123457")
    ]
    return contacts, Tag.objects.get(account=account, name="vip"), group


def test_deleting_a_tag_or_group_deletes_its_links_only(account, marketer, linked):
    _, tag, group = linked
    delete_named(tag, marketer)
    delete_named(group, marketer)
    assert (ContactTag.objects.count(), GroupMember.objects.count()) == (0, 0)
    assert Contact.objects.count() == 2


def test_deleting_contacts_deletes_their_links(account, marketer, linked):
    contacts, _, _ = linked
    delete_contact(contacts[0], marketer)
    assert ContactTag.objects.count() == GroupMember.objects.count() == 1
    delete_contacts(account, marketer, Contact.objects.all())
    assert (ContactTag.objects.count(), GroupMember.objects.count(), orphan_links()) == (0, 0, 0)


def test_admin_deletes_take_the_links_and_links_cannot_be_added_there(account, marketer, linked, staff_user):
    contacts, tag, _ = linked
    request = RequestFactory().post("/")
    request.user = staff_user
    site._registry[Tag].delete_queryset(request, Tag.objects.filter(pk=tag.pk))
    site._registry[Contact].delete_model(request, contacts[0])
    assert (ContactTag.objects.count(), GroupMember.objects.count(), orphan_links()) == (0, 1, 0)
    assert not site._registry[ContactTag].has_add_permission(request)
    assert not site._registry[GroupMember].has_change_permission(request)


def test_an_import_links_only_the_tags_and_group_still_there(account, marketer, tmp_path, settings, monkeypatch):
    """A tag and the import's group deleted while the file is written: later batches skip them."""
    settings.IMPORT_BATCH_ROWS = 10
    group = save_named(Group, account, marketer, name="March")
    lines = "".join(f"+4474001{index:05d},vip;gone\n" for index in range(30))
    path = tmp_path / "c.csv"
    path.write_text("phone,tags\n" + lines, encoding="utf-8")
    original = ContactTarget.write
    batches = []

    def write_then_delete(self, records, job):
        result = original(self, records, job)
        batches.append(len(records))
        if len(batches) == 1:
            delete_named(Tag.objects.get(account=account, name="gone"), marketer)
            delete_named(Group.objects.get(pk=group.pk), marketer)
        return result

    monkeypatch.setattr(ContactTarget, "write", write_then_delete)
    job = create_import(account, marketer, SimpleUploadedFile("c.csv", path.read_bytes()), group=group)
    job = start_import(job)
    assert (job.state, job.created) == (ImportState.DONE, 30), job.error_message
    assert len(batches) > 1
    assert ContactTag.objects.filter(tag__name="vip").count() == 30
    assert (ContactTag.objects.count(), GroupMember.objects.count(), orphan_links()) == (30, 0, 0)


@pytest.mark.postgres
def test_locks_need_a_transaction_on_postgresql(transactional_db, account):
    with pytest.raises(RuntimeError, match="transaction"):
        lock_for_linking(Tag.objects.all())


def in_thread(work) -> tuple[threading.Thread, list]:
    """Run `work` on a thread with its own database connection; the list receives its result or error."""
    outcome = []

    def target():
        try:
            outcome.append(work())
        except Exception as error:  # handed to the test
            outcome.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


@contextmanager
def held_open(work, then=lambda: None):
    """`work` in a transaction on another thread, which stays open (with its locks) until the block ends and then
    runs `then` before it commits."""
    ready, release = threading.Event(), threading.Event()

    def run():
        with transaction.atomic():
            result = work()
            ready.set()
            release.wait(10)
            then()
        return result

    thread, outcome = in_thread(run)
    assert ready.wait(10)
    try:
        yield outcome
    finally:
        release.set()
        thread.join(10)


def started_and_waiting(work) -> tuple[threading.Thread, list]:
    """`work` on another thread, asserted to be still waiting (for a lock) half a second later."""
    thread, outcome = in_thread(work)
    thread.join(0.5)
    assert thread.is_alive(), "it must wait for the other transaction"
    return thread, outcome


def link_under_lock(contact, tag):
    """What an import does for one link: lock the tag, write the link."""
    lock_for_linking(Tag.objects.filter(pk=tag.pk))
    ContactTag.objects.create(contact=contact, tag=tag)


@pytest.mark.postgres
def test_a_delete_waits_for_a_writer_that_locked_first_and_takes_its_links(transactional_db, account, marketer):
    contact = create_contact(account, marketer, phone="+447400123456")
    tag = save_named(Tag, account, marketer, name="vip")
    with held_open(lambda: link_under_lock(contact, tag)):
        deleting, deleted = started_and_waiting(lambda: delete_named(Tag.objects.get(pk=tag.pk), marketer))
    deleting.join(10)
    assert deleted == [None]
    assert (Tag.objects.count(), ContactTag.objects.count(), orphan_links()) == (0, 0, 0)


@pytest.mark.postgres
def test_a_writer_that_comes_after_a_delete_finds_the_rows_gone(transactional_db, account, marketer):
    contact = create_contact(account, marketer, phone="+447400123456")
    tag = save_named(Tag, account, marketer, name="vip")
    group = save_named(Group, account, marketer, name="Leads")

    def lock_both():
        lock_for_delete(Tag.objects.filter(pk=tag.pk))
        lock_for_delete(Contact.objects.filter(pk=contact.pk))

    def delete_both():
        Tag.objects.filter(pk=tag.pk).delete()
        Contact.objects.filter(pk=contact.pk).delete()

    with held_open(lock_both, then=delete_both):
        tagging, tagged = started_and_waiting(lambda: add_tags(account, marketer, Contact.objects.all(), [tag]))
        grouping, grouped = started_and_waiting(lambda: add_to_group(account, marketer, Contact.objects.all(), group))
    tagging.join(10)
    grouping.join(10)
    assert isinstance(tagged[0], ValidationError) and "Tag not found" in str(tagged[0])
    assert grouped == [0]
    assert (ContactTag.objects.count(), GroupMember.objects.count(), orphan_links()) == (0, 0, 0)


@pytest.mark.postgres
def test_contacts_being_tagged_in_bulk_are_deleted_only_after_the_tagging(transactional_db, account, marketer):
    create_contact(account, marketer, phone="+447400123456")
    tag = save_named(Tag, account, marketer, name="vip")
    with held_open(lambda: add_tags(account, marketer, Contact.objects.all(), [tag])) as added:
        deleting, deleted = started_and_waiting(lambda: delete_contacts(account, marketer, Contact.objects.all()))
    deleting.join(10)
    assert (added, deleted) == ([1], [1])
    assert (Contact.objects.count(), ContactTag.objects.count(), orphan_links()) == (0, 0, 0)


@pytest.mark.postgres
def test_deleting_an_account_waits_for_an_import_linking_its_tags(transactional_db, account, marketer, staff_user):
    contact = create_contact(account, marketer, phone="+447400123456")
    tag = save_named(Tag, account, marketer, name="vip")
    request = RequestFactory().post("/")
    request.user = staff_user
    account_admin = site._registry[type(account)]
    with held_open(lambda: link_under_lock(contact, tag)):
        deleting, deleted = started_and_waiting(
            lambda: account_admin.delete_model(request, type(account).objects.get(pk=account.pk))
        )
    deleting.join(10)
    assert deleted == [None]
    assert (Tag.objects.count(), ContactTag.objects.count(), orphan_links()) == (0, 0, 0)
