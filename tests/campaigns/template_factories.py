"""Builders for sender and template tests (direct rows, bypassing the services)."""

from campaigns.models import Sender, SenderStatus, Template, TemplateStatus

PE_ID = "1201159876543210987"
OTP_BODY = "Your Acme OTP is {{otp}}. Do not share it."


def make_sender(account, name="ACMEIN", status=SenderStatus.APPROVED, **fields) -> Sender:
    fields.setdefault("country_code", "IN")
    fields.setdefault("entity_id", PE_ID)
    return Sender.objects.create(account=account, name=name, status=status, **fields)


def make_template(account, sender, body=OTP_BODY, status=TemplateStatus.PENDING, name=None, **fields) -> Template:
    name = name or f"Notice {Template.objects.count() + 1}"
    fields.setdefault("alias", name.lower().replace(" ", "-"))
    fields.setdefault("template_type", "SI")
    return Template.objects.create(account=account, sender=sender, name=name, body=body, status=status, **fields)
