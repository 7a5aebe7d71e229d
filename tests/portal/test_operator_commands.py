"""The operator's manage.py commands: add_credits, create_staff_user, suspend_account, outbox_status and
retry_failed_webhooks, run with call_command on real rows."""

import json
import uuid
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone

from campaigns.models import BalanceTransaction, BalanceTransactionKind, Campaign, Connector, Message
from campaigns.states import CampaignState, MessageState
from portal.models import AccountStatus, AuditEvent, Webhook, WebhookDelivery
from portal.webhooks import delivery, signing
from tests.campaigns.sending_support import approved_sender, approved_template, prices

pytestmark = pytest.mark.django_db
User = get_user_model()


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


# add_credits -------------------------------------------------------------------------------------------------


def test_add_credits_moves_the_balance_writes_the_ledger_row_and_the_audit_row(account, staff_user):
    account.balance = Decimal("1.5")
    account.save()
    out = run("add_credits", account.slug, "100.25", "--note", "Invoice 42 paid", "--by", staff_user.email)
    account.refresh_from_db()
    assert account.balance == Decimal("101.75")
    assert "balance 101.7500 EUR" in out
    entry = BalanceTransaction.objects.for_account(account).get()
    assert (entry.kind, entry.amount, entry.balance_after) == (
        BalanceTransactionKind.CREDIT,
        Decimal("100.25"),
        Decimal("101.75"),
    )
    assert (entry.note, entry.actor) == ("Invoice 42 paid", staff_user)
    audit = AuditEvent.objects.for_account(account).get(verb="account.credited")
    assert (audit.actor, audit.before, audit.after) == (staff_user, {"balance": "1.5000"}, {"balance": "101.7500"})


def test_add_credits_finds_the_account_by_its_public_id(account, staff_user):
    run("add_credits", str(account.uid), "5", "--note", "Trial", "--by", staff_user.email)
    account.refresh_from_db()
    assert account.balance == Decimal("5")


@pytest.mark.parametrize(
    ("reference", "amount", "note", "by", "error"),
    [
        ("nope", "5", "x", "staff@platform.example", "No account with slug or id 'nope'"),
        ("acme-retail", "five", "x", "staff@platform.example", "is not a number"),
        ("acme-retail", "-5", "x", "staff@platform.example", "must be a positive number"),
        ("acme-retail", "0", "x", "staff@platform.example", "must be a positive number"),
        ("acme-retail", "NaN", "x", "staff@platform.example", "must be a positive number"),
        ("acme-retail", "Infinity", "x", "staff@platform.example", "must be a positive number"),
        ("acme-retail", "1.00001", "x", "staff@platform.example", "more than 4 decimal places"),
        ("acme-retail", "1e12", "x", "staff@platform.example", "must be below 10,000,000,000"),
        ("acme-retail", "5", "  ", "staff@platform.example", "--note must say why"),
        ("acme-retail", "5", "x" * 201, "staff@platform.example", "longer than 200 characters"),
        ("acme-retail", "5", "x", "admin@acme.example", "is not an active platform staff user"),
        ("acme-retail", "5", "x", "nobody@example.com", "is not an active platform staff user"),
    ],
)
def test_add_credits_refuses_bad_input_and_writes_nothing(
    account, staff_user, admin_user, reference, amount, note, by, error
):
    with pytest.raises(CommandError, match=error):
        run("add_credits", reference, amount, "--note", note, "--by", by)
    account.refresh_from_db()
    assert account.balance == Decimal("0")
    assert not BalanceTransaction.objects.exists() and not AuditEvent.objects.exists()


# create_staff_user -------------------------------------------------------------------------------------------


class FakeTerminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_a_new_staff_user_gets_a_generated_password_once_and_opens_the_admin(client):
    out = run("create_staff_user", "Ops@Platform.example", "--no-input")
    user = User.objects.get(email="ops@platform.example")
    assert (user.username, user.is_staff, user.is_superuser) == ("ops@platform.example", True, False)
    password = out.split("(shown once): ")[1].strip()
    assert user.check_password(password)
    assert client.login(username=user.username, password=password)
    assert client.get("/admin/").status_code == 200


def test_a_superuser_takes_its_password_from_the_environment(monkeypatch, client):
    monkeypatch.setenv("OPS_PASSWORD", "a-long-unusual-passphrase-7")
    out = run("create_staff_user", "root@platform.example", "--superuser", "--password-from-env", "OPS_PASSWORD")
    user = User.objects.get(email="root@platform.example")
    assert user.is_superuser and user.is_staff and user.check_password("a-long-unusual-passphrase-7")
    assert "Created superuser" in out and "a-long-unusual-passphrase-7" not in out
    client.force_login(user)
    assert client.get("/admin/portal/account/").status_code == 200


def test_an_existing_user_is_promoted_and_keeps_their_password(admin_user):
    out = run("create_staff_user", "ADMIN@acme.example", "--no-input")
    admin_user.refresh_from_db()
    assert admin_user.is_staff and not admin_user.is_superuser
    assert admin_user.check_password("correct-horse-9")
    assert "Updated staff user" in out and "Password unchanged." in out


def test_the_password_is_asked_twice_on_a_terminal(monkeypatch):
    answers = iter(["a-long-unusual-passphrase-7", "a-long-unusual-passphrase-7"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    run("create_staff_user", "ops@platform.example", stdin=FakeTerminal())
    assert User.objects.get(email="ops@platform.example").check_password("a-long-unusual-passphrase-7")


@pytest.mark.parametrize(
    ("arguments", "env", "answers", "error"),
    [
        (["not-an-email", "--no-input"], {}, [], "is not an e-mail address"),
        (["ops@platform.example", "--password-from-env", "OPS_PW"], {"OPS_PW": "1234"}, [], "Password refused"),
        (["ops@platform.example", "--password-from-env", "OPS_PW"], {}, [], "OPS_PW is not set or empty"),
        (["ops@platform.example"], {}, ["a-long-unusual-passphrase-7", "other"], "The two passwords differ"),
        (["ops@platform.example"], {}, ["password", "password"], "too common"),
    ],
)
def test_create_staff_user_refuses_bad_input_and_creates_nobody(monkeypatch, arguments, env, answers, error):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    replies = iter(answers)
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(replies))
    with pytest.raises(CommandError, match=error):
        run("create_staff_user", *arguments, stdin=FakeTerminal())
    assert not User.objects.exists()


def test_without_a_terminal_the_password_is_not_prompted_for():
    with pytest.raises(CommandError, match="No terminal"):
        run("create_staff_user", "ops@platform.example", stdin=StringIO())
    assert not User.objects.exists()


# suspend_account ---------------------------------------------------------------------------------------------


@pytest.fixture
def sending_account(settings, account):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()
    sender = approved_sender(account)
    approved_template(account, sender, "Your Acme code is {{code}}", template_type="SI")
    return sender


def make_campaign(account, sender, state, name):
    """A campaign in `state`; its messages exist (recipients_count) once it has started."""
    prepared = state not in (CampaignState.DRAFT, CampaignState.SCHEDULED)
    return Campaign.objects.create(
        account=account, sender=sender, name=name, text="Sale at Acme", state=state, recipients_count=int(prepared)
    )


def test_a_suspended_account_cannot_use_the_api_nor_send_and_its_campaigns_pause(api, account, sending_account):
    client = api("marketer")
    send = {"sender": "ACMERT", "to": "9876543210", "message": "Your Acme code is 1234"}
    assert client.post("/api/v2/sms/send", send, format="json").status_code == 201
    running = make_campaign(account, sending_account, CampaignState.RUNNING, "Running")
    scheduled = make_campaign(account, sending_account, CampaignState.SCHEDULED, "Later")
    make_campaign(account, sending_account, CampaignState.DRAFT, "Draft")

    out = run("suspend_account", account.slug, "--reason", "Unpaid invoice")

    account.refresh_from_db()
    assert account.status == AccountStatus.INACTIVE
    assert "acme-retail suspended" in out and "'Running'" in out
    for response in (client.post("/api/v2/sms/send", send, format="json"), client.get("/api/v2/account/balance")):
        assert response.status_code == 400
        assert response.json()["message"] == "Inactive account"
    states = {c.name: c.state for c in Campaign.objects.for_account(account)}
    assert states == {"Running": "paused", "Later": "paused", "Draft": "draft"}
    audit = AuditEvent.objects.for_account(account).get(verb="account.suspended")
    assert audit.after == {
        "status": "inactive",
        "reason": "Unpaid invoice",
        "paused_campaigns": [str(running.uid), str(scheduled.uid)],
    }
    assert "already suspended" in run("suspend_account", account.slug)

    out = run("suspend_account", str(account.uid), "--resume", "--reason", "Paid")

    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE and "active again" in out
    states = {c.name: c.state for c in Campaign.objects.for_account(account)}
    assert states == {"Running": "running", "Later": "scheduled", "Draft": "draft"}
    assert client.post("/api/v2/sms/send", send, format="json").status_code == 201
    resumed = AuditEvent.objects.for_account(account).get(verb="account.resumed")
    assert resumed.after["resumed_campaigns"] == [str(running.uid), str(scheduled.uid)]
    assert "is active: nothing changed" in run("suspend_account", account.slug, "--resume")


def test_suspend_account_names_an_unknown_account():
    with pytest.raises(CommandError, match="No account with slug or id 'ghost'"):
        run("suspend_account", "ghost")


# outbox_status -----------------------------------------------------------------------------------------------


def make_message(account, state=MessageState.QUEUED, *, due_in=-60, lease_in=None, campaign=None, connector=None):
    now = timezone.now()
    return Message.objects.create(
        account=account,
        campaign=campaign,
        group_id=uuid.uuid4(),
        recipient=f"+9198{uuid.uuid4().int % 10**8:08d}",
        sender_name="ACMERT",
        body="Hi",
        state=state,
        not_before=now + timedelta(seconds=due_in),
        claimed_until=now + timedelta(seconds=lease_in) if lease_in is not None else None,
        claim_token=uuid.uuid4() if lease_in is not None else None,
        sent_at=now - timedelta(minutes=5) if state in (MessageState.SENT, MessageState.UNKNOWN) else None,
        connector=connector,
    )


def make_webhook(account, **fields):
    return Webhook.objects.create(
        account=account, name="hook", uri="https://hooks.example.com/in", secret=signing.generate_secret(), **fields
    )


def make_delivery(webhook, state, *, due_in=-10, age_hours=0):
    item = WebhookDelivery.objects.create(
        account=webhook.account,
        webhook=webhook,
        event_uid=uuid.uuid4(),
        event_name="sms:message:status",
        payload={"event": "sms:message:status"},
        state=state,
        next_attempt_at=timezone.now() + timedelta(seconds=due_in) if state == WebhookDelivery.State.PENDING else None,
    )
    if age_hours:
        WebhookDelivery.objects.filter(pk=item.pk).update(created_at=timezone.now() - timedelta(hours=age_hours))
    return item


def test_outbox_status_counts_the_rows_by_state_per_connector_and_the_webhook_deliveries(
    account, other_account, sending_account
):
    sim = Connector.objects.create(name="sim-a")
    paused = make_campaign(account, sending_account, CampaignState.PAUSED, "Paused")
    make_message(account, due_in=-600, connector=sim)  # due for 10 minutes: the oldest
    make_message(account, due_in=-30)
    make_message(account, campaign=paused)  # due, but its campaign is paused
    make_message(account, due_in=3600)  # scheduled
    make_message(account, lease_in=60, connector=sim)  # claimed under a live lease
    make_message(account, lease_in=-5, connector=sim)  # the worker died
    make_message(account, MessageState.SENT, connector=sim)
    make_message(account, MessageState.UNKNOWN, connector=sim)
    make_message(account, MessageState.DELIVERED, connector=sim)
    old = make_message(account, MessageState.FAILED, connector=sim)
    Message.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=30))
    make_message(other_account, due_in=-900)
    hook = make_webhook(account, lease_token="abc", lease_until=timezone.now() - timedelta(seconds=1))
    make_delivery(hook, WebhookDelivery.State.PENDING, due_in=-120)
    make_delivery(hook, WebhookDelivery.State.PENDING, due_in=600)
    make_delivery(hook, WebhookDelivery.State.FAILED)
    make_delivery(hook, WebhookDelivery.State.FAILED, age_hours=48)
    make_delivery(hook, WebhookDelivery.State.SUCCEEDED)
    make_delivery(make_webhook(account, verification_required=True), WebhookDelivery.State.PENDING)
    make_webhook(account, status=Webhook.Status.INACTIVE)

    figures = json.loads(run("outbox_status", "--account", account.slug, "--json"))

    messages = figures["messages"]
    assert messages["queued"] == {"due": 2, "held_by_campaign": 1, "scheduled": 1, "claimed": 1, "lease_expired": 1}
    assert 600 <= messages["oldest_due_seconds"] < 660
    assert messages["awaiting_report"] == {"sent": 1, "unknown": 1}
    assert 300 <= messages["oldest_awaiting_report_seconds"] < 360
    assert messages["final_recent"]["delivered"] == 1 and messages["final_recent"]["failed"] == 0
    assert figures["connectors"] == [
        {
            "connector": "(no connector yet)",
            "kind": "",
            "due": 1,
            "claimed": 0,
            "lease_expired": 0,
            "awaiting_report": 0,
        },
        {"connector": "sim-a", "kind": "simulator", "due": 1, "claimed": 1, "lease_expired": 1, "awaiting_report": 2},
    ]
    webhooks = figures["webhooks"]
    assert webhooks["pending"] == {"due": 1, "retry_later": 1, "held_for_handshake": 1}
    assert 120 <= webhooks["oldest_due_seconds"] < 180
    assert (webhooks["failed_total"], webhooks["finished_recent"]) == (2, {"succeeded": 1, "failed": 1})
    assert (webhooks["expired_queue_leases"], webhooks["switched_off_webhooks"]) == (1, 1)

    everyone = json.loads(run("outbox_status", "--json"))
    assert everyone["account"] is None and everyone["messages"]["queued"]["due"] == 3
    assert 900 <= everyone["messages"]["oldest_due_seconds"] < 960
    table = run("outbox_status", "--account", account.slug)
    assert "queued: lease expired" in table and "oldest due waits" in table and "10m" in table
    assert any(line.split()[:6] == ["sim-a", "simulator", "1", "1", "1", "2"] for line in table.splitlines())


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--account", "ghost"], "No account with slug or id 'ghost'"),
        (["--hours", "0"], "--hours must be a positive number"),
        (["--hours", "x"], "invalid int value"),
    ],
)
def test_outbox_status_refuses_bad_input(arguments, error):
    with pytest.raises(CommandError, match=error):
        run("outbox_status", *arguments)


# retry_failed_webhooks ---------------------------------------------------------------------------------------


def test_failed_deliveries_go_back_to_their_queue_in_order_and_the_engine_picks_them(
    account, other_account, monkeypatch
):
    hook = make_webhook(account)
    first = make_delivery(hook, WebhookDelivery.State.FAILED)
    make_delivery(hook, WebhookDelivery.State.SUCCEEDED)
    second = make_delivery(hook, WebhookDelivery.State.FAILED)
    later = make_delivery(hook, WebhookDelivery.State.PENDING, due_in=-1)
    WebhookDelivery.objects.filter(pk=first.pk).update(attempt_count=6, error="HTTP 500")
    elsewhere = make_delivery(make_webhook(other_account), WebhookDelivery.State.FAILED)

    assert "Would queue 2 failed deliveries" in run("retry_failed_webhooks", "--account", account.slug, "--dry-run")
    assert WebhookDelivery.objects.filter(state=WebhookDelivery.State.FAILED).count() == 3

    out = run("retry_failed_webhooks", "--account", account.slug)

    assert "Queued 2 failed deliveries of 1 webhooks again" in out
    first.refresh_from_db()
    assert (first.state, first.attempt_count, first.error) == ("pending", 0, "")
    assert first.next_attempt_at <= timezone.now()
    queue = WebhookDelivery.objects.filter(webhook=hook, state="pending").order_by("id")
    assert list(queue.values_list("pk", flat=True)) == [first.pk, second.pk, later.pk]
    assert delivery.head_of_queue(hook.pk) == first
    elsewhere.refresh_from_db()
    assert elsewhere.state == "failed"
    assert AuditEvent.objects.for_account(account).filter(verb="webhook.redelivered").count() == 1
    started = []
    monkeypatch.setattr(delivery, "enqueue", lambda webhook_id, token: started.append(webhook_id))
    assert delivery.sweep() == [hook.pk] and started == [hook.pk]


def test_since_and_webhook_narrow_the_retry_and_switched_off_webhooks_are_skipped(account):
    hook = make_webhook(account)
    old = make_delivery(hook, WebhookDelivery.State.FAILED, age_hours=5)
    recent = make_delivery(hook, WebhookDelivery.State.FAILED)
    off = make_webhook(account, status=Webhook.Status.INACTIVE, disabled_reason=Webhook.DisabledReason.FAILING)
    stuck = make_delivery(off, WebhookDelivery.State.FAILED)
    since = (timezone.now() - timedelta(hours=1)).isoformat()

    out = run("retry_failed_webhooks", "--since", since)

    assert "Queued 1 failed deliveries of 1 webhooks again" in out
    assert "switched off (Every attempt failed for too long)" in out
    assert [WebhookDelivery.objects.get(pk=item.pk).state for item in (old, recent, stuck)] == [
        "failed",
        "pending",
        "failed",
    ]
    assert "Queued 1 failed" in run("retry_failed_webhooks", "--webhook", str(hook.uid))
    assert WebhookDelivery.objects.get(pk=old.pk).state == "pending"


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (["--account", "ghost"], "No account with slug or id 'ghost'"),
        (["--webhook", "not-an-id"], "No webhook 'not-an-id'"),
        (["--webhook", "999999"], "No webhook '999999'"),
        (["--since", "yesterday"], "is not an ISO 8601 date"),
        (["--since", "2026-13-45"], "is not an ISO 8601 date"),
    ],
)
def test_retry_failed_webhooks_refuses_bad_input(account, arguments, error):
    with pytest.raises(CommandError, match=error):
        run("retry_failed_webhooks", *arguments)


def test_a_switched_off_webhook_named_explicitly_is_refused_and_a_foreign_one_is_not_found(account, other_account):
    off = make_webhook(account, status=Webhook.Status.INACTIVE, disabled_reason=Webhook.DisabledReason.MANUAL)
    make_delivery(off, WebhookDelivery.State.FAILED)
    with pytest.raises(CommandError, match=r"switched off .*restore it first"):
        run("retry_failed_webhooks", "--webhook", str(off.uid))
    with pytest.raises(CommandError, match=r"No webhook .* in other-corp"):
        run("retry_failed_webhooks", "--account", other_account.slug, "--webhook", str(off.pk))
    assert WebhookDelivery.objects.get(webhook=off).state == "failed"
