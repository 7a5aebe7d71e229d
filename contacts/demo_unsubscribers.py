"""Demo opt-outs of every type and a few inbound messages (call `load` after the contacts demo data)."""

from datetime import timedelta

from django.utils import timezone

from contacts.models import InboundNumber, KeywordRoute
from contacts.models.contacts import Contact
from contacts.services_inbound import receive_inbound
from contacts.services_numbers import assign_number
from contacts.services_unsubscribers import add_unsubscriber

FALLBACK_NUMBERS = [f"+9198765000{n:02d}" for n in range(10)]
SCOPES = [
    ("all", ""),
    ("all", ""),
    ("sender", "DMMART"),
    ("sender", "DMBANK"),
    ("product", "PROMO"),
    ("tag", "newsletter"),
    ("tag", "vip"),
]
DEMO_NUMBER = "+918071234567"  # the demo account's inbound number, with a keyword route for HOURS
INBOUND = [  # (index of the handset among the spare numbers, text, to)
    (0, "STOP", "DMMART"),
    (1, "Stop.", "DMMART"),
    (1, "START", "DMMART"),
    (2, "When does the sale end?", "DMMART"),
    (0, "stopp", "DMBANK"),
    (2, "HOURS please", DEMO_NUMBER),
    (3, "Is my order on its way?", DEMO_NUMBER),
]


def _numbers(account) -> list[str]:
    phones = list(
        Contact.objects.filter(account=account, phone_valid=True).order_by("id").values_list("phone", flat=True)[:12]
    )
    return phones if len(phones) >= len(SCOPES) + 3 else FALLBACK_NUMBERS


def load(account, user) -> None:
    if not InboundNumber.objects.filter(number=DEMO_NUMBER).exists():
        number = assign_number(account, DEMO_NUMBER, label="Customer care", actor=user)
        KeywordRoute.objects.create(
            account=account, number=number, keyword="HOURS", reply_text="DemoMart care is open 9:00 to 21:00 daily."
        )
    numbers = _numbers(account)
    for number, (kind, value) in zip(numbers, SCOPES, strict=False):
        add_unsubscriber(account, user, receiver=number, type=kind, value=value)
    now = timezone.now()
    senders = numbers[len(SCOPES) :]
    for index, (handset, text, to) in enumerate(INBOUND):
        receive_inbound(
            account,
            from_number=senders[handset % len(senders)],
            to=to,
            text=text,
            received_at=now - timedelta(hours=len(INBOUND) - index),
            provider_id=f"demo-mo-{index + 1}",
        )
