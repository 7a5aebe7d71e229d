"""The gateway's beat sweeps, run as beat runs them (by the task names of portal/celery_schedule.py): receipts past
their TTL expire unless a session holds them, sessions of dead servers go, old finished rows are deleted."""

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import SmppBindFailure, SmppReceipt, SmppSession
from campaigns.smpp_gateway.credentials import issue_credential
from portal.celery import app
from portal.celery_schedule import BEAT_SCHEDULE
from tests.smpp_gateway.gateway_rows import bind_failure, bound_session

pytestmark = pytest.mark.django_db


def run_beat_entry(name: str):
    return app.tasks[BEAT_SCHEDULE[name]["task"]].apply().get()


def receipt(credential, *, expire_in: float, state=SmppReceipt.State.PENDING, **fields) -> SmppReceipt:
    return SmppReceipt.objects.create(
        account=credential.account,
        credential=credential,
        kind=SmppReceipt.Kind.RECEIPT,
        source_addr="919876543210",
        destination_addr="ACMERT",
        short_message="id:1 sub:001 dlvrd:001 submit date:2612050000 done date:2612050000 stat:DELIVRD err:000",
        state=state,
        expire_at=timezone.now() + timedelta(seconds=expire_in),
        **fields,
    )


@pytest.fixture
def credential(account):
    return issue_credential(account, system_id="acme").credential


def test_receipts_past_their_ttl_expire_unless_a_session_holds_them(credential):
    waiting = receipt(credential, expire_in=3600)
    overdue = receipt(credential, expire_in=-1)
    in_flight = receipt(credential, expire_in=-1, session="s1", lease_until=timezone.now() + timedelta(seconds=30))
    assert run_beat_entry("smpp-expire-receipts") == 1
    states = dict(SmppReceipt.objects.values_list("pk", "state"))
    assert states[overdue.pk] == SmppReceipt.State.EXPIRED
    assert states[waiting.pk] == states[in_flight.pk] == SmppReceipt.State.PENDING


def test_sessions_of_a_dead_server_are_removed(credential, settings):
    settings.SMPP_SESSION_STALE_SECONDS = 120
    alive = bound_session(credential, seen_seconds_ago=10)
    bound_session(credential, seen_seconds_ago=600, address="127.0.0.1:40002")
    assert run_beat_entry("smpp-drop-stale-sessions") == 1
    assert list(SmppSession.objects.values_list("pk", flat=True)) == [alive.pk]


def test_prune_deletes_old_finished_receipts_and_bind_failures_only(credential, account, settings):
    settings.SMPP_RECEIPT_KEEP_DAYS, settings.SMPP_BIND_FAILURE_KEEP_DAYS = 7, 30
    old_delivered = receipt(credential, expire_in=0, state=SmppReceipt.State.DELIVERED)
    old_pending = receipt(credential, expire_in=3600)
    recent_expired = receipt(credential, expire_in=0, state=SmppReceipt.State.EXPIRED)
    SmppReceipt.objects.filter(pk__in=[old_delivered.pk, old_pending.pk]).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    old_failure, recent_failure = bind_failure(account, "acme"), bind_failure(account, "acme")
    SmppBindFailure.objects.filter(pk=old_failure.pk).update(created_at=timezone.now() - timedelta(days=31))
    run_beat_entry("smpp-prune")
    assert set(SmppReceipt.objects.values_list("pk", flat=True)) == {old_pending.pk, recent_expired.pk}
    assert list(SmppBindFailure.objects.values_list("pk", flat=True)) == [recent_failure.pk]
