"""What the scale test asserts once everything is final: each returns the figures it checked (for the report)
and raises AssertionError naming the test's mode (`where`) when a promise is broken.

The promises, as the engine states them:
- sending (README "Campaigns and sending"): one message per (campaign, recipient), released to the connector
  with the message id as idempotency key. A worker killed between handing a batch to the connector and
  recording the answer cannot know it was taken, so after its lease the batch is handed over again: the
  simulator records each message id once and only counts such resubmissions (`duplicates`). So: one accepted
  submission per message, resubmissions only of messages claimed more than once and at most what the killed
  host held in flight.
- webhooks (portal/webhooks/delivery.py): at least once, deduplicated by the Standard Webhooks `webhook-id` (the
  event id). Succeeded attempts are written SUCCESS_BATCH at a time, so a killed worker may resend at most that
  many per queue it was running; an attempt that timed out on the sender's side may have arrived all the same,
  so each retried attempt may add one more. The order of arrival is measured and reported, not asserted:
  deliveries created by concurrent fan-outs can become visible out of id order (see the test's README notes).
- billing (campaigns/sending/billing.py): the only balance writer; a message is charged once (`debited`) and
  refunded at most once; every move is a ledger row with the balance after it.
"""

import itertools
from collections import Counter
from decimal import Decimal

from django.db.models import Sum

from campaigns.models import BalanceTransaction, BalanceTransactionKind, Message, SimulatorSubmission
from campaigns.states import MessageState
from contacts.models import Contact, ContactTag, Import, ImportState
from portal.models import Event, WebhookDelivery
from portal.webhooks import signing
from portal.webhooks.delivery import SUCCESS_BATCH

STATE_BY_SUFFIX = {"9999": MessageState.REJECTED, "0000": MessageState.UNDELIVERED}
STATUS_EVENT = "sms:message:status"


def expected_state(number: str) -> str:
    return STATE_BY_SUFFIX.get(number[-4:], MessageState.DELIVERED)


def messages_exactly_once(
    account, campaign_id: int, campaign_numbers: list[str], api_accepted: dict, in_flight_limit: int, where: str
) -> dict:
    """Every recipient got one message, each message reached its expected final state, and the connector
    accepted each message id exactly once."""
    campaign_rows = list(Message.objects.filter(campaign_id=campaign_id).values_list("uid", "recipient", "state"))
    recipients = Counter(recipient for _, recipient, _ in campaign_rows)
    assert not [n for n, c in recipients.items() if c > 1], f"{where}: a campaign recipient has two messages"
    assert set(recipients) == set(campaign_numbers), (
        f"{where}: campaign messages {len(recipients)} for {len(campaign_numbers)} recipients"
    )
    api_rows = list(
        Message.objects.filter(account=account, campaign__isnull=True).values_list("uid", "recipient", "state")
    )
    assert {str(uid) for uid, _, _ in api_rows} == set(api_accepted), (
        f"{where}: API messages in the database differ from the ids the API answered"
    )
    rows = campaign_rows + api_rows
    wrong = [(r, s) for _, r, s in rows if s != expected_state(r)]
    assert not wrong, f"{where}: {len(wrong)} messages not in their expected final state, e.g. {wrong[:5]}"

    refused_at_submit = {uid for uid, recipient, _ in rows if recipient.endswith("9999")}
    accepted_uids = {uid for uid, _, _ in rows} - refused_at_submit
    submissions = dict(SimulatorSubmission.objects.values_list("message_uid", "duplicates"))
    missing, unexpected = accepted_uids - set(submissions), set(submissions) - accepted_uids
    assert not missing and not unexpected, (
        f"{where}: connector submissions: {len(missing)} messages never accepted, {len(unexpected)} unknown ids"
    )
    resubmitted = {uid for uid, duplicates in submissions.items() if duplicates}
    resubmissions = sum(submissions.values())
    claimed_once = Message.objects.filter(uid__in=resubmitted, attempts__lte=1).count()
    assert not claimed_once, f"{where}: {claimed_once} messages resubmitted although claimed only once"
    assert resubmissions <= in_flight_limit, (
        f"{where}: {resubmissions} resubmissions, more than the killed host could hold in flight ({in_flight_limit})"
    )
    return {
        "messages": len(rows),
        "campaign_messages": len(campaign_rows),
        "api_messages": len(api_rows),
        "connector_accepted": len(submissions),
        "resubmissions_deduplicated": resubmissions,
        "messages_resubmitted": len(resubmitted),
    }


def balances_exact(account, credited: Decimal, where: str) -> dict:
    """Balance = credit - what the charged messages cost; the ledger adds up, row by row and in total."""
    account.refresh_from_db(fields=["balance"])
    charged = Message.objects.filter(account=account, debited=True).aggregate(total=Sum("cost"))["total"] or 0
    assert account.balance == credited - charged, (
        f"{where}: balance {account.balance} != credit {credited} - charged {charged}"
    )
    ledger = list(
        BalanceTransaction.objects.filter(account=account)
        .order_by("id")
        .values_list("kind", "amount", "balance_after", "messages")
    )
    running = Decimal("0")
    for kind, amount, balance_after, _ in ledger:
        running += amount
        assert balance_after == running, f"{where}: ledger row {kind} {amount} says {balance_after}, sum {running}"
    assert running == account.balance, f"{where}: ledger total {running} != balance {account.balance}"
    debits = [row for row in ledger if row[0] == BalanceTransactionKind.DEBIT]
    refunds = [row for row in ledger if row[0] == BalanceTransactionKind.REFUND]
    debited_now = Message.objects.filter(account=account, debited=True).count()
    refunded = sum(row[3] for row in refunds)
    assert sum(row[3] for row in debits) == debited_now + refunded, (
        f"{where}: debit rows count {sum(row[3] for row in debits)} messages, {debited_now} charged + {refunded} "
        "refunded: a message was charged twice"
    )
    refunded_amount = sum((row[1] for row in refunds), Decimal("0"))
    assert -sum((row[1] for row in debits), Decimal("0")) == charged + refunded_amount, f"{where}: debits != charges"
    return {
        "balance": str(account.balance),
        "charged": str(charged),
        "ledger_rows": len(ledger),
        "refunds": refunded,
    }


def events_delivered(account, webhook_uid: str, secret: str, identity: str, received: list, where: str) -> dict:
    """Every status event of the subscribed sender reached the receiver (by webhook-id), signed; no more arrived
    twice than the crash and the retries explain; each API message's final state was among them."""
    events = Event.objects.filter(account=account, name=STATUS_EVENT, identity=identity)
    expected_ids = {str(uid) for uid in events.values_list("uid", flat=True)}
    webhook_deliveries = WebhookDelivery.objects.filter(webhook__uid=webhook_uid)
    deliveries = list(webhook_deliveries.order_by("id").values_list("event_uid", "state"))
    assert {str(uid) for uid, _ in deliveries} == expected_ids and len(deliveries) == len(expected_ids), (
        f"{where}: {len(expected_ids)} events but {len(deliveries)} deliveries: an event was not fanned out"
    )
    assert {state for _, state in deliveries} == {WebhookDelivery.State.SUCCEEDED}, f"{where}: deliveries not done"
    ids = [request.headers["webhook-id"] for request in received]
    counts = Counter(ids)
    lost, unknown = expected_ids - set(counts), set(counts) - expected_ids
    assert not lost, f"{where}: {len(lost)} of {len(expected_ids)} events never reached the receiver"
    assert not unknown, f"{where}: the receiver got {len(unknown)} events that are not the sender's"
    resent = len(ids) - len(counts)
    retried = webhook_deliveries.aggregate(attempts=Sum("attempt_count"))["attempts"] - len(deliveries)
    assert resent <= SUCCESS_BATCH + retried, (
        f"{where}: {resent} events arrived twice: more than one success batch lost with the killed worker "
        f"({SUCCESS_BATCH}) and the {retried} retried attempts"
    )
    order = delivery_order(deliveries, list(dict.fromkeys(ids)), received)
    bad = [
        r
        for r in received
        if r.headers["webhook-signature"]
        != signing.signature_header([secret], r.headers["webhook-id"], int(r.headers["webhook-timestamp"]), r.body)
    ]
    assert not bad, f"{where}: {len(bad)} deliveries with a wrong signature"
    reported: dict[str, set] = {}
    for request in received:
        payload = request.json()["payload"]
        reported.setdefault(payload["id"], set()).add(payload["state"])
    api_states = Message.objects.filter(account=account, campaign__isnull=True, sender_name=identity)
    unreported = [
        str(uid) for uid, state in api_states.values_list("uid", "state") if state not in reported.get(str(uid), ())
    ]
    assert not unreported, f"{where}: {len(unreported)} API messages whose final state no event reported"
    figures = {"events": len(expected_ids), "webhook_requests": len(ids), "webhook_resent": resent}
    return {**figures, "webhook_retried_attempts": retried, **order}


def delivery_order(deliveries: list, first_seen: list[str], received: list) -> dict:
    """How far the arrival order strays from the deliveries' creation (id) order, and from each message's own
    order of states (sent before its final state). Reported, not asserted: see the README notes."""
    rank = {str(uid): index for index, (uid, _) in enumerate(deliveries)}
    inversions = [(a, b) for a, b in itertools.pairwise(first_seen) if rank[b] < rank[a]]
    seen_states: dict[str, list[str]] = {}
    for request in received:
        payload = request.json()["payload"]
        states = seen_states.setdefault(payload["id"], [])
        if payload["state"] not in states:
            states.append(payload["state"])
    final_before_sent = [m for m, states in seen_states.items() if "sent" in states and states[0] != "sent"]
    figures = {"arrivals_behind_newer": len(inversions), "messages_final_before_sent": len(final_before_sent)}
    if inversions:
        rows = WebhookDelivery.objects.filter(event_uid__in=inversions[0]).values_list("event_uid", "id", "created_at")
        figures["first_inversion"] = [(str(uid), pk, created.isoformat()) for uid, pk, created in rows]
    return figures


def import_once(account, plan, tag: str, campaign_contacts: int, worker_logs: str, where: str) -> dict:
    """One import, finished, with the file's counts; its contacts written once; its task ran to the end once."""
    jobs = list(Import.objects.filter(account=account))
    assert len(jobs) == 1, f"{where}: {len(jobs)} imports"
    job = jobs[0]
    assert job.state == ImportState.DONE, f"{where}: import {job.state} {job.error_code} {job.error_message}"
    counts = (job.rows_read, job.created, job.updated, job.duplicates, job.failed)
    wanted = (plan.rows, len(plan.new_numbers), len(plan.updated_numbers), plan.duplicates, plan.invalid)
    assert counts == wanted, f"{where}: import counts (read, created, updated, duplicates, failed) {counts} != {wanted}"
    contacts = Contact.objects.filter(account=account).count()
    assert contacts == campaign_contacts + len(plan.new_numbers), f"{where}: {contacts} contacts after the import"
    links = ContactTag.objects.filter(tag__account=account, tag__name=tag).count()
    assert links == len(plan.new_numbers) + len(plan.updated_numbers), f"{where}: {links} contacts tagged {tag}"
    lines = worker_logs.splitlines()
    finished_runs = [line for line in lines if "contacts.run_import[" in line and "succeeded" in line]
    assert len(finished_runs) == 1 and "'done'" in finished_runs[0], f"{where}: import task runs {finished_runs}"
    return {"import_rows": plan.rows, "import_created": job.created, "import_updated": job.updated}
