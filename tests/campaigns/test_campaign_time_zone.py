"""Campaign start times typed without an offset are in the account's time zone, in the API and the wizard."""

from datetime import UTC, datetime

import pytest

from campaigns.models import Campaign
from tests.campaigns.sending_support import approved_sender

pytestmark = pytest.mark.django_db


def test_api_start_at_without_offset_is_account_local(api, account):
    sender = approved_sender(account)
    response = api().post(
        "/api/v2/campaigns",
        {
            "name": "Evening",
            "sender": sender.name,
            "text": "Acme news for you today",
            "audience": {"numbers": ["+919876543210"]},
            "start_at": "2026-12-24 20:30:00",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    campaign = Campaign.objects.get(name="Evening")
    assert campaign.start_at == datetime(2026, 12, 24, 15, 0, tzinfo=UTC)
    assert response.json()["data"]["start_at"].endswith("+05:30")
