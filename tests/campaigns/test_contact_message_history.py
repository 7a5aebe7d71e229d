"""The contact page shows the messages sent to that contact (loaded from the message log by HTMX)."""

from decimal import Decimal

import pytest

from campaigns.sending.lifecycle import schedule_campaign
from contacts.models import Contact
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db


def test_contact_detail_lists_only_that_contacts_messages(client_for, admin_user, account, settings):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()
    contact = Contact.objects.create(account=account, phone="+919876543210", identity="c-1")
    sender = approved_sender(account)
    template = approved_template(account, sender, "Acme sale today in all stores")
    campaign = campaign_for(account, sender, template, numbers=["9876543210", "9876500001"])
    schedule_campaign(campaign, actor=admin_user)
    run_sweeps()

    client = client_for(admin_user)
    page = client.get(f"/contacts/{contact.uid}/").content.decode()
    assert 'hx-get="/campaigns/messages/?mobile=%2B919876543210"' in page
    history = client.get("/campaigns/messages/?mobile=%2B919876543210", HTTP_HX_REQUEST="true").content.decode()
    assert "+919876543210" in history and "+919876500001" not in history and "<html" not in history
