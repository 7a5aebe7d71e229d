"""Fresh objects of every API resource, made through the API as an account's admin (one factory per model).

`make(actor, route)` creates a row of the route's model; the generated API tests fail naming the model when a new
resource has no factory here.
"""

import itertools
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from campaigns.demo_templates import PE_ID
from contacts.models import InboundMessage
from contacts.services_inbound import receive_inbound
from contacts.services_numbers import assign_number
from portal.accounts import add_member
from portal.api.cleanup import BATCH_HEADER
from portal.exports.services import run_export
from portal.models import Account, CleanupBatch
from portal.roles import Role
from portal.tokens import issue_token
from tests.support.api_surface import Route, route_of

API = "/api/v2"
SEQUENCE = itertools.count(1)
CLOSED_PORT_URI = "http://127.0.0.1:9/hook"  # refused at once: a delivery fails without waiting


@dataclass
class Actor:
    """An account's admin calling the API with a real token."""

    account: object
    user: object
    client: APIClient
    token: object


def admin_of(account, email: str) -> Actor:
    user = get_user_model().objects.create_user(username=email, email=email, password="correct-horse-9")
    add_member(account, user, Role.ADMIN)
    issued = issue_token(account, user, f"api tests {email}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
    return Actor(account=account, user=user, client=client, token=issued.token)


def call(actor: Actor, method: str, path: str, body=None, *, multipart: bool = False):
    """A request as the actor: JSON, or multipart when it carries a file."""
    send = getattr(actor.client, method.lower())
    if body is None:
        return send(path)
    return send(path, body, format="multipart" if multipart else "json")


def created(actor: Actor, path: str, body: dict, *, multipart: bool = False) -> dict:
    response = call(actor, "POST", f"{API}{path}", body, multipart=multipart)
    assert response.status_code in (200, 201, 202), (path, response.status_code, response.content[:500])
    return response.json()["data"]


def number() -> str:
    """A valid Indian mobile number no demo contact has (demo numbers start with 9)."""
    return f"+917{next(SEQUENCE):09d}"


def letters(count: int = 6) -> str:
    value, text = next(SEQUENCE), ""
    for _ in range(count):
        value, digit = divmod(value, 26)
        text += chr(ord("A") + digit)
    return text


def csv_upload(text: str, name: str = "upload.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def _by_uid(model, data: dict):
    return model.objects.get(uid=data["id"])


def contact(actor, route):
    return _by_uid(route.model, created(actor, "/contacts", {"phone": number(), "first_name": "Asha"}))


def identifier(actor, route):
    owner = contact(actor, route_of(f"{API}/contacts/{{id}}/"))
    data = created(actor, f"/contacts/{owner.uid}/identifiers", {"type": "custom", "value": f"crm-{next(SEQUENCE)}"})
    return _by_uid(route.model, data)


def named(path):
    return lambda actor, route: _by_uid(route.model, created(actor, path, {"name": f"name-{next(SEQUENCE)}"}))


def contacts_import(actor, route):
    upload = csv_upload(f"phone,first_name\n{number()},Asha\nnot-a-number,Ravi\n")
    return _by_uid(route.model, created(actor, "/contacts/imports", {"file": upload}, multipart=True))


def unsubscriber(actor, route):
    return _by_uid(route.model, created(actor, "/sms/unsubscribers", {"receiver": number()}))


def inbound_message(actor, route):
    result = receive_inbound(actor.account, from_number=number(), to="DEMOMT", text="Hello", provider_id=letters(10))
    return InboundMessage.objects.get(pk=result.message.pk)


def sender(actor, route, *, approved: bool = True):
    body = {"name": letters(), "country_code": "IN", "service": "ENT", "entity_id": PE_ID}
    data = created(actor, "/sms/senders", body)
    if approved:
        created(actor, f"/sms/senders/{data['id']}/approve", {})
    return _by_uid(route_of(f"{API}/sms/senders/{{id}}/").model, data)


def template(actor, route):
    body = {
        "name": f"Template {next(SEQUENCE)}",
        "body": "Your order {{order_id}} has shipped.",
        "sender": str(sender(actor, route).uid),
        "type": "SI",
    }
    return _by_uid(route.model, created(actor, "/sms/templates", body))


def blocked_template(actor, route):
    return _by_uid(route.model, created(actor, "/sms/blocked-templates", {"template_id": f"1107{next(SEQUENCE):015d}"}))


def campaign(actor, route):
    body = {
        "name": f"Campaign {next(SEQUENCE)}",
        "sender": str(sender(actor, route).uid),
        "text": "Hello from the shop",
        "audience": {"numbers": [number()]},
    }
    return _by_uid(route.model, created(actor, "/campaigns", body))


def webhook(actor, route):
    body = {"name": f"Hook {next(SEQUENCE)}", "uri": CLOSED_PORT_URI}
    return _by_uid(route_of(f"{API}/webhooks/{{id}}/").model, created(actor, "/webhooks", body))


def delivery(actor, route):
    return _by_uid(route.model, created(actor, f"/webhooks/{webhook(actor, route).uid}/ping", {}))


def subscription(actor, route):
    body = {"event": "sms:unsubscription", "webhook_id": str(webhook(actor, route).uid)}
    return _by_uid(route.model, created(actor, "/subscriptions", body))


def token(actor, route):
    return _by_uid(route.model, created(actor, "/auth/tokens", {"name": f"token {next(SEQUENCE)}"}))


def cleanup_batch(actor, route):
    """A clean-up of the list the route belongs to (`…/clean-batches/{id}`, `…/restore-clean/{id}`)."""
    prefix = re.split(r"/(?:clean-batches|restore-clean)/", route.path)[0]
    make(actor, route_of(f"{prefix}/{{id}}/"))
    response = actor.client.delete(prefix)
    assert response.status_code == 200, (prefix, response.content[:500])
    return CleanupBatch.objects.get(uid=response.headers[BATCH_HEADER])


def scheduled_send(actor, route):
    """An API send 3 days ahead: a text matching a new approved template (India needs one), with credit to pay."""
    shop, owner = letters(), sender(actor, route)
    body = {"name": f"Shipped {shop}", "body": f"Your {shop} order {{{{order_id}}}} has shipped.", "type": "SI"}
    made = created(actor, "/sms/templates", body | {"sender": str(owner.uid)})
    created(actor, f"/sms/templates/{made['id']}/approve", {})
    Account.objects.filter(pk=actor.account.pk, balance__lt=1).update(balance=Decimal(100))
    at = (timezone.now() + timedelta(days=3)).isoformat()
    send = {"sender": owner.name, "to": number(), "message": f"Your {shop} order A-1 has shipped.", "time": at}
    return route.model.objects.get(uid=created(actor, "/sms/send", send)["group_id"])


def export(actor, route):
    """A finished contacts export: its job is run here (the task queued on commit never runs in these tests)."""
    made = _by_uid(route.model, created(actor, "/exports", {"kind": "contacts", "format": "csv"}))
    run_export(made.pk)
    made.refresh_from_db()
    return made


def verification(actor, route):
    """A live request made in the database (a send through the API needs prices and a DLT template)."""
    return route.model.objects.create(
        account=actor.account,
        to=number(),
        prefix=number()[:7],
        code_hash="0" * 64,
        expire_at=timezone.now() + timedelta(minutes=10),
    )


def inbound_number(actor, route):
    """Numbers are assigned by platform staff (the service they call)."""
    return assign_number(actor.account, f"+44740{next(SEQUENCE):07d}")


def smart_link(actor, route):
    """A send's shortened URL with one recipient's code, made in the database (sends make them)."""
    link = route.model.objects.create(
        account=actor.account, group_id=uuid.uuid4(), position=1, target_url="https://shop.example.com/sale"
    )
    link.short_links.create(code=letters(8), message_uid=uuid.uuid4(), recipient=number())
    return link


def keyword_route(actor, route):
    body = {"keyword": letters(), "reply_text": "Thanks, we will call you back."}
    return _by_uid(route.model, created(actor, "/numbers/keywords", body))


def smpp_credential(actor, route):
    body = {"label": f"ESME {next(SEQUENCE)}", "allowed_ips": ["127.0.0.1"]}
    return _by_uid(route.model, created(actor, "/smpp/accounts", body))


FACTORIES = {
    "contacts.Contact": contact,
    "contacts.Identifier": identifier,
    "contacts.Tag": named("/contacts/tags"),
    "contacts.Group": named("/contacts/groups"),
    "contacts.Segment": named("/contacts/segments"),
    "contacts.Import": contacts_import,
    "contacts.Unsubscriber": unsubscriber,
    "contacts.InboundMessage": inbound_message,
    "campaigns.Sender": sender,
    "campaigns.Template": template,
    "campaigns.BlockedTemplate": blocked_template,
    "campaigns.Campaign": campaign,
    "portal.Webhook": webhook,
    "portal.WebhookDelivery": delivery,
    "portal.Subscription": subscription,
    "portal.ApiToken": token,
    "portal.CleanupBatch": cleanup_batch,
    "portal.Export": export,
    "campaigns.Verification": verification,
    "campaigns.ScheduledSend": scheduled_send,
    "contacts.InboundNumber": inbound_number,
    "contacts.KeywordRoute": keyword_route,
    "campaigns.SmartLink": smart_link,
    "campaigns.SmppCredential": smpp_credential,
}


def make(actor: Actor, route: Route):
    """A new row of the route's model in the actor's account."""
    label = route.model._meta.label
    if label not in FACTORIES:
        raise LookupError(f"No factory for {label} ({route.path}): add one to tests/support/api_objects.py")
    return FACTORIES[label](actor, route)
