"""Demo Verify data: the account's settings (sender DEMOMT, the approved "Verify code" template) and a few requests
sent through the service, one of them checked, so the Verify page has something to show."""

import re

from campaigns.models import Message, Sender, Template, VerifySettings
from campaigns.verify.progress import check
from campaigns.verify.service import VerifyRequest, start

DEMO_NUMBERS = ("+919812300101", "+919812300102", "+919812300103")


def load(account, user) -> None:
    if VerifySettings.objects.filter(account=account).exists():
        return
    VerifySettings.objects.create(
        account=account,
        sender=Sender.objects.for_account(account).get(name="DEMOMT"),
        template=Template.objects.for_account(account).get(alias="verify-code"),
        channels=[{"channel": "sms"}, {"channel": "flash"}],
        allowed_countries=["IN"],
    )
    if account.balance <= 0:  # the requests are charged like every message
        return
    for position, number in enumerate(DEMO_NUMBERS):
        verification, _ = start(account, VerifyRequest(to=number, reference=f"demo-signup-{position + 1}"), actor=user)
        if position == 0:
            message = Message.objects.get(meta__verify_id=str(verification.uid))
            check(account, verification.uid, re.match(r"\d+", message.outgoing_text()).group(0))
