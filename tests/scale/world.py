"""The scale test's data: the sizes of a run (SCALE_* environment variables) and the account it works in."""

import secrets
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model

from campaigns.sending.billing import add_credits
from contacts.models import Contact, ContactTag, Tag
from portal.accounts import add_member, create_account
from portal.roles import Role
from portal.tokens import issue_token
from tests.campaigns.sending_support import approved_sender, approved_template, prices
from tests.scale import load
from tests.scale.cluster import env_int

CAMPAIGN_SENDER, API_SENDER = "SCALECMP", "SCALEAPI"
AUDIENCE_TAG = "scale-everyone"
CREDIT = Decimal("100000")


@dataclass
class Sizes:
    """SCALE_* environment variables make a smaller (or larger) run."""

    recipients: int = field(default_factory=lambda: env_int("SCALE_RECIPIENTS", 20_000))
    api_sends: int = field(default_factory=lambda: env_int("SCALE_API_SENDS", 5_000))
    import_rows: int = field(default_factory=lambda: env_int("SCALE_IMPORT_ROWS", 8_000))
    hosts: int = field(default_factory=lambda: max(2, min(3, env_int("SCALE_HOSTS", 2))))
    send_threads: int = field(default_factory=lambda: env_int("SCALE_SEND_THREADS", 8))
    send_seconds: int = field(default_factory=lambda: env_int("SCALE_SEND_SECONDS", 600))
    settle_seconds: int = field(default_factory=lambda: env_int("SCALE_SETTLE_SECONDS", 240))
    down_seconds: int = field(default_factory=lambda: env_int("SCALE_DOWN_SECONDS", 8))
    kill_at: float = 1 / 3


@dataclass
class World:
    account: object
    token: str
    pepper: str
    campaign_numbers: list[str]
    credited: Decimal


def make_world(sizes: Sizes, settings) -> World:
    """An account with credit, prices, two approved senders, a template and the campaign's contacts (committed:
    the hosts' processes read them). The API token is hashed with a pepper the hosts are given too."""
    settings.API_TOKEN_PEPPER = pepper = secrets.token_urlsafe(32)
    account = create_account("Scale Retail", default_country="GB", time_zone="Europe/London")
    user_model = get_user_model()
    admin = user_model.objects.create_user(username="ops@scale.example", email="ops@scale.example", password="x")
    add_member(account, admin, Role.ADMIN)
    staff = user_model.objects.create_user(username="staff@scale.example", email="staff@scale.example", is_staff=True)
    prices(service="ENT", GB="0.0125")
    add_credits(account, CREDIT, actor=staff, note="scale test")
    sender = approved_sender(account, name=CAMPAIGN_SENDER, country="GB", service="ENT")
    approved_sender(account, name=API_SENDER, country="GB", service="ENT")
    approved_template(account, sender, "Hi {{first_name}}, your Acme order is ready", template_type="T", name="Ready")
    tag = Tag.objects.create(account=account, name=AUDIENCE_TAG)
    numbers = load.numbers("campaign", sizes.recipients)
    contacts = Contact.objects.bulk_create(
        [Contact(account=account, phone=number, first_name=f"C{i}") for i, number in enumerate(numbers)],
        batch_size=5000,
    )
    ContactTag.objects.bulk_create([ContactTag(contact=c, tag=tag) for c in contacts], batch_size=5000)
    token = issue_token(account, admin, "scale test").raw
    return World(account, token, pepper, numbers, CREDIT)
