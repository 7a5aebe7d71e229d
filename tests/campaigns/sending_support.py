"""Helpers of the sending tests: approved senders and templates, prices, campaigns, and running the sweeps."""

from decimal import Decimal

from django.utils import timezone

from campaigns.models import Campaign, Price, Sender, SenderStatus, Template, TemplateStatus
from campaigns.rendering import variables_in
from campaigns.sending.lifecycle import due_campaign_ids, finish_campaigns, settle_all_cancelled, start_campaign
from campaigns.sending.outbox import run_outbox
from campaigns.sending.reports import ingest_all_due_receipts


def approved_sender(account, name: str = "ACMERT", country: str = "IN", service: str = "MKT") -> Sender:
    return Sender.objects.create(
        account=account, name=name, country_code=country, service=service, status=SenderStatus.APPROVED
    )


def approved_template(account, sender, body: str, template_type: str = "P", name: str = "Offer") -> Template:
    return Template.objects.create(
        account=account,
        sender=sender,
        name=name,
        alias=name.lower().replace(" ", "-"),
        body=body,
        template_type=template_type,
        status=TemplateStatus.APPROVED,
    )


def prices(service: str = "MKT", **by_country: str) -> None:
    for country, price in (by_country or {"IN": "0.01", "GB": "0.04", "US": "0.02"}).items():
        Price.objects.create(country=country, service=service, price=Decimal(price))


def campaign_for(account, sender, template=None, numbers=(), **fields) -> Campaign:
    """A draft; each variable of the body defaults to "Sam" (pasted numbers have no contact to fill it)."""
    fields.setdefault("name", "Spring sale")
    body = template.body if template is not None else fields.get("text", "")
    fields.setdefault("variable_mapping", {name: {"default": "Sam"} for name in variables_in(body)})
    return Campaign.objects.create(
        account=account, sender=sender, template=template, audience={"numbers": list(numbers)}, **fields
    )


def run_sweeps(rounds: int = 5) -> None:
    """What beat and the workers do, in this process: start due campaigns, dispatch, report, complete."""
    for _ in range(rounds):
        for campaign_id in due_campaign_ids(timezone.now()):
            start_campaign(campaign_id)
        settle_all_cancelled()
        run_outbox(seconds=30)
        ingest_all_due_receipts()
        finish_campaigns()
