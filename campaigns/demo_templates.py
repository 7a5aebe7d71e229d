"""Demo sender IDs and templates in each status, created through the services (so they carry audit rows)."""

from campaigns import services
from campaigns.models import Sender, Template

PE_ID = "1201159876543210987"
SENDERS = [
    ("DEMOMT", "ENT", "approve", ""),
    ("567890", "MKT", "approve", ""),
    ("DMSALE", "ENT", "pending", ""),
    ("OFFERS", "ENT", "reject", "A common dictionary word: use the brand, e.g. DEMOMT."),
]
TEMPLATES = [
    (
        "Login OTP",
        "DEMOMT",
        "SI",
        "Your DemoMart OTP is {{otp}}. It is valid for 10 minutes. Do not share it.",
        "approve",
        "",
    ),
    (
        "Verify code",
        "DEMOMT",
        "SI",
        "{{code}} is your DemoMart verification code. It expires in {{minutes}} minutes.",
        "approve",
        "",
    ),
    ("Order shipped", "DEMOMT", "SI", "Dear {{name}}, your DemoMart order {{order_id}} has shipped.", "approve", ""),
    (
        "Weekend sale",
        "567890",
        "P",
        "DemoMart weekend sale: up to {{discount}} off on {{category}}. To opt-out, send STOP to 567890.",
        "approve",
        "",
    ),
    ("Delivery slot", "DEMOMT", "SI", "Hi {{name}}, your DemoMart delivery is booked for {{slot}}.", "pending", ""),
    (
        "Festive offer",
        "567890",
        "P",
        "DemoMart festive offer for {{name}}: flat {{discount}} off today only!",
        "reject",
        "Promotional templates must say how to opt out.",
    ),
]


def load(account, user) -> None:
    if Sender.objects.for_account(account).exists():
        return
    senders = {}
    for name, service, decision, reason in SENDERS:
        sender = services.create_sender(
            account, acting_user=user, name=name, country_code="IN", service=service, entity_id=PE_ID
        )
        senders[name] = _decide(sender, decision, reason, user, services.approve_sender, services.reject_sender)
    for name, sender_name, template_type, body, decision, reason in TEMPLATES:
        saved = services.create_template(
            account, acting_user=user, name=name, body=body, sender=senders[sender_name], template_type=template_type
        )
        _decide(saved.template, decision, reason, user, services.approve_template, services.reject_template)
    _legacy_service_explicit(account, user, senders["DEMOMT"])


def _decide(obj, decision, reason, user, approve, reject):
    """The object after the decision ("pending" leaves it as it is)."""
    if decision == "approve":
        return approve(obj, acting_user=user)
    if decision == "reject":
        return reject(obj, acting_user=user, reason=reason)
    return obj


def _legacy_service_explicit(account, user, sender) -> None:
    consent = Template.objects.for_account(account).get(alias="login-otp")
    services.create_template(
        account,
        acting_user=user,
        name="Loyalty points (legacy SE)",
        body="Dear {{name}}, you have {{points}} DemoMart points. Reply STOP to opt out.",
        sender=sender,
        template_type="SE",
        consent_template=consent,
    )
