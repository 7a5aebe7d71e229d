"""Demo sending data: the simulator connector, a price list, and a completed campaign with its messages."""

from decimal import Decimal

from django.utils import timezone

from campaigns.models import Campaign, Connector, Price, SimulatorSubmission, Template
from campaigns.routing import set_catch_all
from campaigns.sending.lifecycle import finish_campaigns, schedule_campaign, start_campaign
from campaigns.sending.outbox import run_outbox
from campaigns.sending.reports import ingest_all_due_receipts

PRICES = {
    "IN": "0.0020",
    "GB": "0.0350",
    "US": "0.0080",
    "AE": "0.0300",
    "SG": "0.0280",
    "DE": "0.0750",
    "FR": "0.0650",
    "BE": "0.0800",
    "NG": "0.0250",
    "BR": "0.0150",
}
SERVICES = {
    "ENT": Decimal("1"),
    "BNK": Decimal("1.1"),
    "MKT": Decimal("0.9"),
    "A2P": Decimal("1"),
    "DIR": Decimal("1.2"),
}
DEMO_RECIPIENTS = 80
FAILING_NUMBERS = ["+919876500000", "+919876500013", "+919876500021"]  # simulator: 001, 013, 021


def load(account, user) -> None:
    if not Connector.objects.exists():
        set_catch_all(Connector.objects.create(name="Simulator", kind="simulator"))
    if not Price.objects.filter(account__isnull=True).exists():
        Price.objects.bulk_create(
            Price(country=country, service=service, price=(Decimal(price) * factor).quantize(Decimal("0.00001")))
            for country, price in PRICES.items()
            for service, factor in SERVICES.items()
        )
    template = Template.objects.for_account(account).approved().filter(alias="order-shipped").first()
    if template is None or Campaign.objects.for_account(account).exists():
        return
    _completed_campaign(account, user, template)


def _completed_campaign(account, user, template) -> None:
    from contacts.models import Contact

    phones = Contact.objects.for_account(account).order_by("id").values_list("phone", flat=True)[:DEMO_RECIPIENTS]
    audience = {"numbers": [*phones, *FAILING_NUMBERS]}
    campaign = Campaign.objects.create(
        account=account,
        name="Order updates (demo)",
        sender=template.sender,
        template=template,
        audience=audience,
        variable_mapping={"name": {"source": "first_name", "default": "customer"}, "order_id": {"default": "DM-1001"}},
        created_by=user,
    )
    schedule_campaign(campaign, actor=user)
    start_campaign(campaign.pk)
    run_outbox(seconds=20)
    SimulatorSubmission.objects.filter(reported_at__isnull=True).update(report_due_at=timezone.now())
    ingest_all_due_receipts(seconds=20)

    finish_campaigns()
