"""portal.cleanup: moving rows into a restorable batch and back, exactly, in bulk; refusals; the purge sweep.

Opt-outs serve as the rows (contacts registers them as a kind); the API and page flows of each kind are in
tests/contacts/test_unsubscriber_cleanup.py and tests/campaigns/test_blocked_template_cleanup.py."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from contacts.models.unsubscribers import Unsubscriber, UnsubscriberSource
from contacts.services_unsubscribers import OPT_OUT_CLEANUP, add_many, add_unsubscriber
from portal import cleanup
from portal.celery_schedule import BEAT_SCHEDULE
from portal.models import AuditEvent, CleanupBatch, CleanupRow
from portal.tasks import purge_cleanup_batches

pytestmark = pytest.mark.django_db


def stored(account) -> list[dict]:
    """Every column of the account's opt-outs, as the database holds them."""
    return list(Unsubscriber.objects.filter(account=account).order_by("id").values())


@pytest.fixture
def opt_outs(account, admin_user, marketer):
    add_unsubscriber(account, admin_user, receiver="+919876543210")
    add_unsubscriber(account, marketer, receiver="+919876543211", type="tag", value="VIP")
    add_unsubscriber(account, None, receiver="+919876543212", type="sender", value="ACMEBK", source="inbound_keyword")
    add_unsubscriber(account, admin_user, receiver="+919876543213", type="product", value="OTP", source="api")
    return stored(account)


def test_restore_brings_back_every_row_exactly_as_it_was(account, admin_user, opt_outs):
    batch = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    assert (batch.row_count, batch.kind, batch.created_by) == (4, "unsubscribers", admin_user)
    assert not Unsubscriber.objects.filter(account=account).exists()
    assert CleanupRow.objects.filter(batch=batch).count() == 4
    result = cleanup.restore(batch, admin_user)
    assert (result.restored, result.skipped) == (4, 0)
    assert stored(account) == opt_outs  # same ids, public ids, values, sources, authors, created/updated times
    assert not CleanupRow.objects.filter(batch=batch).exists()
    batch.refresh_from_db()
    assert (batch.state, batch.restored_by, batch.restored_count, batch.skipped_count) == ("restored", admin_user, 4, 0)


def test_rows_created_again_meanwhile_are_skipped_and_kept(account, admin_user, opt_outs):
    batch = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    again, _ = add_unsubscriber(
        account, None, receiver="+919876543211", type="tag", value="vip", source="inbound_keyword"
    )
    result = cleanup.restore(batch, admin_user)
    assert (result.restored, result.skipped) == (3, 1)
    tagged = Unsubscriber.objects.get(account=account, type="tag")
    assert (tagged.pk, tagged.value, tagged.source) == (again.pk, "vip", UnsubscriberSource.INBOUND_KEYWORD)
    assert Unsubscriber.objects.filter(account=account).count() == 4
    assert AuditEvent.objects.get(verb="unsubscriber.clean_restored").after == {"restored": 3, "skipped": 1}


def test_a_reference_to_a_user_deleted_meanwhile_becomes_empty(account, admin_user, marketer, opt_outs):
    batch = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    get_user_model().objects.filter(pk=marketer.pk).delete()
    assert cleanup.restore(batch, admin_user).restored == 4
    assert Unsubscriber.objects.get(account=account, type="tag").created_by is None
    assert Unsubscriber.objects.get(account=account, type="all").created_by == admin_user


def test_clean_touches_only_the_account_and_audits_the_batch(account, other_account, admin_user, outsider, opt_outs):
    add_unsubscriber(other_account, outsider, receiver="+447400123456")
    batch = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    assert Unsubscriber.objects.filter(account=other_account).count() == 1
    event = AuditEvent.objects.get(verb="unsubscriber.cleaned")
    assert (event.account, event.object_type, event.object_id) == (account, "portal.cleanupbatch", str(batch.uid))
    assert event.after["deleted"] == 4 and event.after["batch"] == str(batch.uid)
    assert list(cleanup.batches_of(account, OPT_OUT_CLEANUP)) == [batch]
    assert not cleanup.batches_of(other_account, OPT_OUT_CLEANUP).exists()


def test_nothing_to_clean_keeps_no_batch(account, admin_user):
    assert cleanup.clean(account, OPT_OUT_CLEANUP, admin_user) is None
    assert not CleanupBatch.objects.exists()
    assert AuditEvent.objects.get(verb="unsubscriber.cleaned").after == {"deleted": 0}


def test_clean_is_part_of_the_callers_transaction(account, admin_user, opt_outs):
    with pytest.raises(RuntimeError), transaction.atomic():
        cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
        raise RuntimeError("the caller fails after the clean")
    assert stored(account) == opt_outs
    assert not CleanupBatch.objects.exists() and not CleanupRow.objects.exists()


def test_rows_move_in_bulk_whatever_their_number(account, admin_user, django_assert_max_num_queries):
    numbers = [f"+9198765{n:05d}" for n in range(3000)]
    add_many(account, admin_user, numbers)
    before = stored(account)
    with django_assert_max_num_queries(8):
        batch = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    assert batch.row_count == 3000
    with django_assert_max_num_queries(10):
        assert cleanup.restore(batch, admin_user).restored == 3000
    assert stored(account) == before


def test_a_batch_is_restored_once(account, admin_user, opt_outs):
    batch = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    cleanup.restore(batch, admin_user)
    with pytest.raises(cleanup.NotRestorable, match="restored already"):
        cleanup.restore(batch, admin_user)
    assert Unsubscriber.objects.filter(account=account).count() == 4


def test_an_expired_batch_cannot_be_restored_and_is_purged(account, admin_user, opt_outs):
    old = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    CleanupBatch.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    add_unsubscriber(account, admin_user, receiver="+919876543299")
    recent = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    old.refresh_from_db()
    assert old.state == "expired"
    with pytest.raises(cleanup.NotRestorable, match="expired"):
        cleanup.restore(old, admin_user)
    assert purge_cleanup_batches.delay().get() == 1
    assert list(CleanupBatch.objects.all()) == [recent]
    assert not CleanupRow.objects.filter(batch_id=old.pk).exists()
    assert CleanupRow.objects.filter(batch=recent).count() == 1
    assert AuditEvent.objects.get(verb="cleanup.purged").after == {"kind": "unsubscribers", "rows": 4}
    assert purge_cleanup_batches.delay().get() == 0


def test_batches_expire_after_thirty_days(account, admin_user, opt_outs):
    batch = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    assert batch.expires_at - batch.created_at == pytest.approx(timedelta(days=30), abs=timedelta(seconds=1))
    assert cleanup.purge_expired(now=timezone.now() + timedelta(days=29)) == 0
    assert cleanup.purge_expired(now=timezone.now() + timedelta(days=30, seconds=1)) == 1


def test_the_purge_runs_on_the_beat():
    entry = BEAT_SCHEDULE["cleanup-purge"]
    assert entry["task"] == purge_cleanup_batches.name and entry["schedule"] <= 3600


def test_kinds_are_registered_once_and_only_for_rows_nothing_points_to():
    assert cleanup.kind_named("unsubscribers") is OPT_OUT_CLEANUP
    assert cleanup.kind_named("blocked_templates").model._meta.label == "campaigns.BlockedTemplate"
    with pytest.raises(ImproperlyConfigured, match="twice"):
        cleanup.register(cleanup.CleanupKind("unsubscribers", Unsubscriber, noun="x", audit_prefix="x"))
    with pytest.raises(ImproperlyConfigured, match="point to it"):
        cleanup.register(cleanup.CleanupKind("contacts", Contact, noun="contacts", audit_prefix="contact"))
    with pytest.raises(LookupError):
        cleanup.kind_named("contacts")


def test_typed_confirmation_phrase():
    assert cleanup.confirmation_matches(" delete   all ")
    assert not cleanup.confirmation_matches("delete")
    assert not cleanup.confirmation_matches(None)


def test_batches_and_rows_are_listed_read_only_in_the_admin(client, account, admin_user, opt_outs):
    batch = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    root = get_user_model().objects.create_superuser("root", "root@platform.example", "correct-horse-9")
    client.force_login(root)
    for name in ("cleanupbatch", "cleanuprow"):
        assert client.get(f"/admin/portal/{name}/").status_code == 200, name
        assert client.get(f"/admin/portal/{name}/add/").status_code == 403, name
    listing = client.get("/admin/portal/cleanupbatch/", {"kind": "unsubscribers", "q": str(batch.uid)})
    assert list(listing.context["cl"].result_list) == [batch]
    assert client.get("/admin/portal/cleanupbatch/", {"kind": "blocked_templates"}).context["cl"].result_count == 0
    page = client.get(f"/admin/portal/cleanupbatch/{batch.pk}/change/")
    assert page.status_code == 200 and "unsubscribers" in page.content.decode()
