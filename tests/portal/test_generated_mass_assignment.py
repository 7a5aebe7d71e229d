"""Generated mass-assignment test (issue 16): no write endpoint takes a protected field from its client.

Every POST/PUT/PATCH of the OpenAPI schema (the generator behind GET /api/v2/schema/) is called as the admin of
account A (holding the demo data; platform staff for what that admin is refused, the inbound token for the
inbound endpoint), every call rolled back, so each starts from the same database state:

- the *control*: a valid minimal body (`bodies()` by path or collection, a PUT's own GET, else {}) on the first
  of a few of A's objects the operation answers 2xx for (an operation without one fails unless in UNREACHED);
- the *hostile* call: the same plus hostile values for what a client must never set: the named fields (account,
  ids, balance, role, state, reviewer, creator, costs, timestamps, staff flags), every property of the
  operation's response component that its request schema lacks (readOnly), and any documented request field
  that looks protected unless WRITABLE lists it (so a field made writable by mistake is still attacked). A
  hostile call refused naming fields is retried once without them.

The PROTECTED columns of every row of A, of account B and of the platform are snapshotted (`tests.support.rows`)
and the hostile call must do to them exactly what the control did: the same columns of the same rows changed to
the same values (timestamps: whether they changed), the same rows created (compared without pk and uid), none of
them B's; created rows belong to A with a server-made uid. A refused call changes nothing; no call answers 5xx.
So the endpoint is its own oracle: what it legitimately does (approve, cancel, debit) is allowed, what the hostile
fields add is a defect. Focused cases for the most sensitive fields follow the walk.
"""

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from functools import cache

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from campaigns.demo_templates import PE_ID
from campaigns.models import Campaign, Connector, Sender, Template, Verification
from campaigns.models.senders import SenderStatus
from contacts.models import Contact
from portal.management.commands.load_demo import DEMO_APPS, demo_loader
from portal.models import Account, Membership, Webhook
from portal.roles import Role
from tests.support.api_objects import CLOSED_PORT_URI, Actor, admin_of, call, csv_upload, letters, make, number
from tests.support.api_objects import sender as approved_sender
from tests.support.api_surface import WRITE_METHODS, bind, fill, lookup_of, operations, parameters, route_of
from tests.support.rows import snapshot

pytestmark = pytest.mark.django_db

HOSTILE_UID, HOSTILE_TIME, HOSTILE_MONEY = str(uuid.uuid4()), "2001-02-03T04:05:06Z", "987654.32"
PREFERRED = ("approved", "completed", "succeeded", "done", "restored", "admin", 1)  # the most privileged enum value
PROTECTED = re.compile(
    r"id|uid|account_id|user_id|role|balance(_after)?|amount|debited|price|cost|estimated_cost|units|currency"
    r"|state|status|state_reason|reason|version|\w+_by_id|actor_id|api_token_id|connector_id|reviewed_at|created_at"
    r"|is_staff|is_superuser|is_active|api_\w+_rate_\w+"
)
CANDIDATES = 6  # objects of A tried per operation for one it accepts
UNREACHED: dict[tuple[str, str], str] = {  # (METHOD, path) -> why no valid request is made for it
    ("POST", "/api/v2/webhooks/{id}/verify/"): "needs a validation key and a live endpoint (test_webhook_verification)",
}
WRITABLE = {  # (path prefix, field): a request field that looks protected but is the endpoint's to write
    ("/api/v2/account/credits", "credits"): "the amount platform staff credit",
    ("/api/v2/account/credits", "account"): "the account platform staff credit (A's admin: 403, a focused case)",
    ("/api/v2/numbers/", "account"): "the account platform staff assign a number to (A's admin: 403)",
    ("/api/v2/sms/blocked-templates/", "status"): "a blocked DLT template id is switched on and off",
    ("/api/v2/webhooks/", "status"): "a webhook is enabled and disabled by its owner",
    ("/api/v2/sms/connectors/", "is_active"): "platform staff switch connectors",
    ("/api/v2/sms/routes/", "is_active"): "platform staff switch routes",
    ("/api/v2/sms/send/template", "id"): "the template to send",
    ("/api/v2/sms/templates/validate/", "id"): "the template being edited",
    ("/api/v2/sms/senders/{id}/", "reason"): "the reviewer's reason for approving or rejecting",
    ("/api/v2/sms/templates/{id}/", "reason"): "the reviewer's reason for approving or rejecting",
}


def protected_columns(model):
    return [f.attname for f in model._meta.concrete_fields if PROTECTED.fullmatch(f.attname) and not f.primary_key]


@cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def deref(node: dict) -> dict:
    while "$ref" in node:
        node = schema()["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


@cache
def shape(path, method) -> tuple[dict, dict, bool]:
    """(request body properties, properties of the success response's `data`, whether the body is multipart)."""
    operation = schema()["paths"][path][method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    body = content.get("application/json") or next(iter(content.values()), {"schema": {}})
    ok = [r["content"]["application/json"]["schema"] for c, r in operation["responses"].items() if c < "3"]
    data = deref(deref(ok[0]).get("properties", {}).get("data", {}))
    multipart = bool(content) and "application/json" not in content
    return deref(body["schema"]).get("properties", {}), data.get("properties", {}), multipart


def hostile_value(prop: dict):
    prop = deref(prop)
    for key in ("allOf", "oneOf", "anyOf"):
        if prop.get(key):
            return hostile_value(prop[key][0])
    if "enum" in prop:
        return next((value for value in PREFERRED if value in prop["enum"]), prop["enum"][-1])
    by_format = {"uuid": HOSTILE_UID, "date-time": HOSTILE_TIME, "date": "2001-02-03", "decimal": HOSTILE_MONEY}
    by_type = {"integer": 424242, "number": 4242.5, "boolean": True, "array": [], "object": {}}
    return by_format.get(prop.get("format")) or by_type.get(prop.get("type"), "hostile")


def hostile_fields(path, method, b) -> dict:
    """Hostile values for everything the operation's client must not set: a documented request field only when it
    looks protected (named, or a PROTECTED column) and is not WRITABLE."""
    request, response, _ = shape(path, method)
    other, user = str(b.account.uid), b.user.email
    named = {
        **{"account": other, "account_id": other, "id": HOSTILE_UID, "uid": HOSTILE_UID, "owner": user},
        **{"balance": HOSTILE_MONEY, "credit": HOSTILE_MONEY, "credits": HOSTILE_MONEY, "role": Role.ADMIN},
        **{name: user for name in ("reviewed_by", "reviewer", "approved_by", "created_by", "restored_by", "user")},
        **{name: HOSTILE_MONEY for name in ("cost", "price", "charged", "estimated_cost")},
        **{"created_at": HOSTILE_TIME, "updated_at": HOSTILE_TIME, "is_staff": True, "is_superuser": True},
    }
    fallback = {"state": "completed", "status": "approved"}
    looks = {name for name in request if name in named | fallback or PROTECTED.fullmatch(name)}
    looks -= {field for prefix, field in WRITABLE if path.startswith(prefix)}
    fields = fallback | {n: hostile_value(p) for n, p in (response | request).items()} | named
    return {name: value for name, value in fields.items() if name not in request or name in looks}


@pytest.fixture
def tenants(account, other_account, settings):
    """A's admin (with the demo data), B's admin, and the callers tried in turn: A's admin, platform staff in A,
    A's inbound connector."""
    settings.API_READ_RATE_PER_MINUTE = settings.API_WRITE_RATE_PER_SECOND = 1_000_000
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    a, b = admin_of(account, "mass-a@acme.example"), admin_of(other_account, "mass-b@other.example")
    for app in DEMO_APPS:
        if (loader := demo_loader(app)) is not None:
            loader(a.account, a.user)
    Account.objects.filter(pk=account.pk).update(balance=Decimal(1000))  # sends are accepted, and debit
    make(a, route_of("/api/v2/campaigns/{id}/"))  # a draft to change and schedule (the demo's is paused)
    Campaign.objects.filter(pk=make(a, route_of("/api/v2/campaigns/{id}/")).pk).update(state="running")  # to pause
    staff = admin_of(account, "mass-staff@platform.example")
    type(staff.user).objects.filter(pk=staff.user.pk).update(is_staff=True)
    inbound, issued = Actor(account, None, APIClient(), None), a.client.post("/api/v2/sms/inbound/settings/")
    inbound.client.credentials(HTTP_X_INBOUND_TOKEN=issued.json()["data"]["token"])
    for actor in (a, staff, inbound):
        actor.client.raise_request_exception = False  # a crash is a 500 to report, not an exception ending the walk
    return a, b, (a, staff, inbound)


def make_missing(actor, targets) -> None:
    """Rows of the actor for every id of every path, made through the API (repeated: a clean-up empties lists)."""
    for _ in range(4):
        missing = [bind(p, m, account=actor.account, user=actor.user).missing for p, m in targets if parameters(p)]
        if not any(missing):
            return
        for route in filter(None, missing):
            make(actor, route)
    raise AssertionError(f"Could not make rows for {[route.path for route in missing if route]}")


def urls_of(path, method, a) -> list[str]:
    """The operation's URL on up to CANDIDATES of A's objects (the last id varies)."""
    if not parameters(path):
        return [path]
    bound = bind(path, method, account=a.account, user=a.user)
    view = route_of(path).view(method, account=a.account, user=a.user, kwargs=bound.values)
    kwarg, lookup = lookup_of(view)
    objects = view.get_queryset().order_by("pk")[:CANDIDATES]
    return [fill(path, bound.values | {kwarg: getattr(obj, lookup)}) for obj in objects]


def bodies(a) -> dict:
    """Factories of valid minimal bodies by path template below /api/v2 (PUTs also use their collection's)."""
    sender = Sender.objects.filter(account=a.account, status=SenderStatus.APPROVED).order_by("pk").first()
    sender_id = str(sender.uid)
    template = Template.objects.filter(account=a.account, status="approved").order_by("pk").first()
    webhook = str(Webhook.objects.filter(account=a.account).order_by("pk").first().uid)
    contact = str(Contact.objects.filter(account=a.account).order_by("pk").first().uid)
    connector = Connector.objects.order_by("pk").first().name
    verification = str(Verification.objects.filter(account=a.account).order_by("pk").first().uid)
    digits = lambda count: f"{uuid.uuid4().int % 10**count:0{count}d}"  # noqa: E731
    send = lambda: {"sender": sender.name, "to": number(), "message": "Your DemoMart OTP is 42."}  # noqa: E731
    csv = lambda text: {"file": csv_upload(text)}  # noqa: E731
    order, reason = {"body": "Your order {{order_id}} has shipped."}, {"reason": "Not registered on DLT"}
    return {
        "/account/credits": lambda: {"credits": "5"},
        "/auth/tokens/": lambda: {"name": f"mass {letters()}"},
        "/campaigns/": lambda: {"name": "C", "sender": sender_id, "text": "Hi", "audience": {"numbers": [number()]}},
        "/campaigns/{id}/schedule/": lambda: {"time": f"{date.today() + timedelta(days=3)} 10:00:00"},
        "/contacts/": lambda: {"phone": number(), "first_name": "Asha"},
        "/contacts/{id}/identifiers/": lambda: {"type": "custom", "value": f"crm-{letters()}"},
        "/contacts/bulk/": lambda: {"action": "tag", "tags": ["mass"], "ids": [contact]},
        "/contacts/groups/{id}/contacts/": lambda: {"ids": [contact]},
        "/contacts/imports/": lambda: csv(f"phone,first_name\n{number()},Asha\n"),
        "/exports/": lambda: {"kind": "messages", "format": "csv", "filter": {"status": "delivered"}},
        **{f"/contacts/{kind}/": lambda: {"name": f"mass {letters()}"} for kind in ("groups", "segments", "tags")},
        "/sms/blocked-templates/": lambda: {"template_id": f"1107{digits(15)}"},
        "/sms/blocked-templates/import/": lambda: csv(f"template_id\n1107{digits(15)}\n"),
        "/sms/connectors/": lambda: {"name": f"mass-{letters()}", "kind": "simulator"},
        "/sms/inbound/": lambda: {"from": number(), "to": sender.name, "text": "Hello"},
        "/sms/pricing/quote": send,
        "/sms/routes/": lambda: {"connectors": [connector], "country": "GB", "prefix": f"44{digits(6)}"},
        "/sms/send": send,
        "/sms/send/template": lambda: {"id": str(template.uid), "to": number(), "data": {"otp": "42"}},
        "/sms/senders/": lambda: {"name": letters(), "country_code": "IN", "service": "ENT", "entity_id": PE_ID},
        "/sms/senders/{id}/reject/": lambda: reason,
        "/sms/templates/": lambda: {"name": letters(), "sender": sender_id, "type": "SI", **order},
        "/sms/templates/{id}/reject/": lambda: reason,
        "/sms/templates/dlt-import/": lambda: csv(f"Template Name,DLT Template ID\n{template.name},1107{digits(15)}\n"),
        "/sms/templates/match/": lambda: {"sender": sender.name, "message": "Your DemoMart OTP is 42."},
        "/sms/templates/validate/": lambda: order,
        "/sms/unsubscribers/": lambda: {"receiver": number()},
        "/sms/unsubscribers/import/": lambda: csv(f"receiver\n{number()}\n"),
        "/subscriptions/": lambda: {"event": "sms:unsubscription", "identity": letters(), "webhook_id": webhook},
        "/webhooks/": lambda: {"name": f"Hook {letters()}", "uri": CLOSED_PORT_URI},
        "/verify/": lambda: {"payload": {"to": number(), "reference": "mass"}},
        "/verify/check/": lambda: {"id": verification, "code": "123456"},
        "/numbers/": lambda: {"number": f"+44740{digits(7)}", "account": a.account.slug},
        "/numbers/keywords/": lambda: {"keyword": letters(), "reply_text": "Thanks"},
    }  # fmt: skip


def attempts(path, method, a, known):
    """(url, body factory) to try on each candidate object; a PUT or PATCH also with its own GET and collection's."""
    own_path, collection = path.removeprefix("/api/v2"), re.sub(r"\{\w+\}/$", "", path.removeprefix("/api/v2"))
    for url in urls_of(path, method, a):
        yield url, known.get(own_path) or (dict if method == "PATCH" else known.get(collection)) or dict
        if method in ("PUT", "PATCH"):
            data, request = a.client.get(url).json().get("data", {}).items(), shape(path, method)[0]
            yield url, {k: v.get("id") if isinstance(v, dict) else v for k, v in data if k in request and v}.copy
            yield url, known.get(collection) or dict


def effect(before, after, a, b, failures, where) -> tuple[dict, dict]:
    """What a call did to protected columns: ({(label, pk, column): value}, {label: created rows without ids})."""
    changed, created = {}, {}
    for label, rows in after.items():
        old = before.get(label, {})
        changed |= {(label, pk, "deleted"): True for pk in set(old) - set(rows)}
        for pk, row in rows.items():
            if pk in old:
                diff = {c: "<changed>" if isinstance(v, date) else v for c, v in row.items() if v != old[pk][c]}
                changed |= {(label, pk, column): value for column, value in diff.items()}
                if diff and row.get("account_id") == b.account.pk:
                    failures.append(f"{where}: changed B's {label} #{pk}: {diff}")
                continue
            if str(row.get("uid")) == HOSTILE_UID or row.get("account_id") not in (None, a.account.pk):
                failures.append(f"{where}: created {label} #{pk} with the client's uid or account: {row}")
            kept = {k: "<time>" if isinstance(v, date) else v for k, v in row.items() if k not in ("id", "uid")}
            created.setdefault(label, []).append(repr(sorted(kept.items())))
    return changed, {label: sorted(rows) for label, rows in created.items()}


def dry_run(actor, method, url, body, multipart, accounts, *, always=True):
    """The call, undone: (response, the protected snapshot it left; None for a refused call unless `always`)."""
    if multipart:  # multipart carries text
        body = {k: v if isinstance(v, str) or hasattr(v, "read") else str(v).lower() for k, v in body.items()}
    with transaction.atomic():
        response = call(actor, method, url, body, multipart=multipart)
        after = snapshot(accounts, fields_of=protected_columns) if always or response.status_code < 400 else None
        transaction.set_rollback(True)
    return response, after


def control_of(path, method, actors, known, accounts):
    """(actor, url, body factory, response, snapshot) of the first attempt answered 2xx, by the first of the actors
    not refused with 401/403; else of the last attempt."""
    for actor in actors:
        for url, body in attempts(path, method, actors[0], known):
            response, after = dry_run(actor, method, url, body(), shape(path, method)[2], accounts, always=False)
            if response.status_code < 400:
                return actor, url, body, response, after
        if response.status_code not in (401, 403):
            break
    return actor, url, body, response, after


def test_no_write_endpoint_changes_protected_fields(tenants):
    a, b, actors = tenants
    targets = operations(WRITE_METHODS)
    assert not {(p, m) for m, p in UNREACHED} - set(targets), "UNREACHED lists operations the schema no longer has"
    used = {(p, f) for p, f in WRITABLE for path, m in targets if path.startswith(p) and f in shape(path, m)[0]}
    assert used == set(WRITABLE), f"WRITABLE lists fields no request has: {set(WRITABLE) - used}"
    make_missing(a, targets)
    known, accounts = bodies(a), [a.account, b.account]
    before = snapshot(accounts, fields_of=protected_columns)
    failures, accepted, retried = [], [], []
    for path, method in targets:
        multipart = shape(path, method)[2]
        actor, url, body, control, control_after = control_of(path, method, actors, known, accounts)
        hostile = hostile_fields(path, method, b)
        response, after = dry_run(actor, method, url, body() | hostile, multipart, accounts)
        errors = response.json().get("errors") if response.status_code in (400, 422) else None
        if control.status_code < 400 and isinstance(errors, dict) and set(errors) & set(hostile):
            retried.append(f"{method} {path} without {sorted(set(errors) & set(hostile))}")
            hostile = {name: value for name, value in hostile.items() if name not in errors}
            response, after = dry_run(actor, method, url, body() | hostile, multipart, accounts)
        where = f"{method} {path} ({url}) -> {control.status_code}/{response.status_code}"
        failures += [f"{where}: crashed: {r.content[:300]!r}" for r in (control, response) if r.status_code >= 500]
        if control.status_code >= 400 and (method, path) not in UNREACHED:
            failures.append(f"{where}: no valid request; add a body to bodies() or list it in UNREACHED")
        did = effect(before, after, a, b, failures, where)
        expected = effect(before, control_after, a, b, failures, where) if control_after else ({}, {})
        if did != (expected if response.status_code < 400 else ({}, {})):  # a refused call changes nothing
            failures.append(f"{where}: hostile {sorted(hostile)} did {did}, the control {expected}")
        accepted += [where] if response.status_code < 400 else []
    assert not failures, "\n".join(failures)
    print(f"\nMass assignment: {len(targets)} write operations, {len(accepted)} accepted the hostile fields, {retried}")


# --- focused cases --------------------------------------------------------------------------------------------


@pytest.fixture
def admin(account, settings):
    settings.API_READ_RATE_PER_MINUTE = settings.API_WRITE_RATE_PER_SECOND = 1_000_000
    return admin_of(account, "focus@acme.example")


def created(actor, path, body):
    response = actor.client.post(path, body, format="json")
    assert response.status_code == 201, response.content[:500]
    return response.json()["data"]["id"]


def test_account_caps_take_the_caps_and_no_other_account_column(admin, other_account):
    hostile = {"balance": HOSTILE_MONEY, "currency": "USD", "status": "inactive", "uid": HOSTILE_UID, "slug": "x"}
    hostile |= {"id": other_account.pk, "name": "Hijacked", "api_write_rate_per_second": 10**6, "account": "x"}
    before = Account.objects.values().get(pk=admin.account.pk)
    response = admin.client.patch("/api/v2/account/caps", {"daily_message_cap": 500, **hostile}, format="json")
    assert response.status_code == 200, response.content
    assert Account.objects.values().get(pk=admin.account.pk) == before | {"daily_message_cap": 500}
    assert Account.objects.get(pk=other_account.pk).daily_message_cap is None


def test_only_platform_staff_add_credits_and_no_form_sets_a_balance(admin, client_for, admin_user, account):
    body = {"credits": "1000", "account": account.slug, "balance": HOSTILE_MONEY}
    assert admin.client.post("/api/v2/account/credits", body, format="json").status_code == 403
    form = {"name": "Acme", "default_country": "IN", "time_zone": "Asia/Kolkata", "entity_type": "bank"}
    form |= {"balance": HOSTILE_MONEY, "status": "inactive", "currency": "USD", "uid": HOSTILE_UID}
    assert client_for(admin_user).post("/settings/account/", form).status_code == 302
    after, fields = Account.objects.get(pk=account.pk), ("balance", "status", "currency", "uid")
    assert [getattr(after, name) for name in fields] == [getattr(account, name) for name in fields]


def test_a_role_changes_only_by_an_admin_of_that_account(client_for, marketer, admin_user, account, outsider):
    own = Membership.objects.get(account=account, user=marketer)
    assert client_for(marketer).post(f"/settings/members/{own.pk}/", {"role": Role.ADMIN}).status_code == 403
    theirs = Membership.objects.get(user=outsider)
    assert client_for(admin_user).post(f"/settings/members/{theirs.pk}/", {"role": Role.VIEWER}).status_code == 404
    assert (Membership.objects.get(pk=own.pk).role, Membership.objects.get(pk=theirs.pk).role) == ("marketer", "admin")


def test_review_state_creator_and_costs_are_the_servers(admin, other_account, outsider):
    hostile = {"reviewed_by": outsider.email, "reviewed_at": HOSTILE_TIME, "created_by": outsider.email, "version": 9}
    hostile |= {"account": str(other_account.uid), "id": HOSTILE_UID, "uid": HOSTILE_UID, "created_at": HOSTILE_TIME}
    body = {"name": letters(), "country_code": "IN", "service": "ENT", "entity_id": PE_ID, "status": 1}
    sender = Sender.objects.get(uid=created(admin, "/api/v2/sms/senders", body | hostile))
    assert (sender.status, sender.reviewed_by, sender.reviewed_at) == (SenderStatus.PENDING, None, None)
    approved = str(approved_sender(admin, None).uid)
    body = {"name": "T", "body": "Order {{id}} shipped.", "sender": approved, "type": "SI", "status": "approved"}
    template = Template.objects.get(uid=created(admin, "/api/v2/sms/templates", body | hostile))
    assert (template.status, template.version, template.reviewed_by) == ("pending", 1, None)
    body = {"name": "C", "sender": approved, "text": "Hello", "audience": {"numbers": [number()]}, "state": "completed"}
    body |= {"estimated_cost": HOSTILE_MONEY, "recipients_count": 424242, "connector": "x", "started_at": HOSTILE_TIME}
    campaign = Campaign.objects.get(uid=created(admin, "/api/v2/campaigns", body | hostile))
    assert (campaign.state, campaign.started_at, campaign.finished_at, campaign.scheduled_at) == ("draft", *[None] * 3)
    assert campaign.estimated_cost != Decimal(HOSTILE_MONEY) and campaign.recipients_count != 424242
    for row in (sender, template, campaign):
        assert (row.account, row.created_by, str(row.uid) != HOSTILE_UID) == (admin.account, admin.user, True)
        assert row.created_at.year > 2001
