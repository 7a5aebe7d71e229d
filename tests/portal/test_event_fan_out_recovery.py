"""An event committed by a process killed before its fan-out still reaches its webhooks (the beat sweep), once."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from portal.celery_schedule import BEAT_SCHEDULE
from portal.events import emit, emit_many
from portal.models import Event, Subscription, Webhook, WebhookDelivery
from portal.webhooks import fan_out, signing
from portal.webhooks.tasks import fan_out_missed_events


@pytest.fixture
def webhook(account):
    hook = Webhook.objects.create(
        account=account, name="hook", uri="http://127.0.0.1:9/in", secret=signing.generate_secret()
    )
    Subscription.objects.create(account=account, webhook=hook, event="sms:message:status", identity="all")
    return hook


def emit_without_fan_out(account, count=1):
    """What a killed emitter leaves: the event rows committed, their after-commit fan-out never run (the test's
    transaction never commits, so its on_commit callbacks are dropped)."""
    items = [({"id": f"msg-{n}"}, "ACMEIN") for n in range(count)]
    emit_many(account, "sms:message:status", items)
    Event.objects.update(created_at=timezone.now() - timedelta(minutes=5))


def test_the_sweep_fans_out_events_whose_fan_out_never_ran(account, webhook):
    emit_without_fan_out(account, count=3)
    assert not WebhookDelivery.objects.exists()
    assert fan_out_missed_events() == 3
    assert WebhookDelivery.objects.filter(webhook=webhook).count() == 3
    assert not Event.objects.filter(fanned_out_at__isnull=True).exists()


def test_a_second_sweep_and_a_late_fan_out_create_nothing_twice(account, webhook):
    emit_without_fan_out(account, count=2)
    assert fan_out_missed_events() == 2
    assert fan_out_missed_events() == 0
    fan_out.dispatch_events(list(Event.objects.values_list("uid", flat=True)))
    assert WebhookDelivery.objects.count() == 2


def test_recent_events_are_left_to_their_own_fan_out(account, webhook):
    emit(account, "sms:message:status", {"id": "fresh"}, "ACMEIN")
    assert fan_out_missed_events() == 0
    assert not WebhookDelivery.objects.exists()


def test_the_explicit_webhook_survives_the_sweep(account):
    named = Webhook.objects.create(
        account=account, name="named", uri="http://127.0.0.1:9/n", secret=signing.generate_secret()
    )
    emit(account, "sms:message:status", {"id": "m"}, "ACMEIN", webhook_id=named.uid)
    Event.objects.update(created_at=timezone.now() - timedelta(minutes=5))
    assert fan_out_missed_events() == 1
    assert list(WebhookDelivery.objects.values_list("webhook_id", flat=True)) == [named.pk]


def test_events_without_subscribers_are_marked_and_not_swept_again(account):
    emit_without_fan_out(account, count=2)
    assert fan_out_missed_events() == 2
    assert fan_out_missed_events() == 0
    assert not WebhookDelivery.objects.exists()


def test_the_emitters_own_fan_out_marks_the_event(account, webhook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = emit(account, "sms:message:status", {"id": "m"}, "ACMEIN")
    event.refresh_from_db()
    assert event.fanned_out_at is not None
    assert WebhookDelivery.objects.filter(event_uid=event.uid).count() == 1


def test_the_sweep_is_on_the_beat_schedule():
    assert BEAT_SCHEDULE["webhooks-fan-out-missed"]["task"] == "portal.webhooks.fan_out_missed"
    call_command("check")
