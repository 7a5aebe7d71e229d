"""A send and its quote list a number with letters under `rejected` as invalid_number (issue 14, defect 7).

phonenumbers alone reads `+91987654XXXX` (a `mobile_secure` export's masked number) as `+919876549999` and
`+1-800-FLOWERS` as `+18003569377`; `contacts.phones` refuses both, and sending asks it.
"""

from decimal import Decimal

import pytest

from campaigns.models import Message
from tests.campaigns.sending_support import approved_sender, approved_template, prices

pytestmark = pytest.mark.django_db

MASKED = "+91987654XXXX"
VANITY = "+1-800-FLOWERS"


@pytest.fixture
def template(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01", US="0.02")
    account.balance = Decimal("5")
    account.save()
    return approved_template(account, approved_sender(account), "Hi {{name}}, your order is ready", "SI")


def test_a_send_rejects_numbers_with_letters_as_invalid(api, template):
    client = api("marketer")
    body = {"sender": "ACMERT", "to": f"9876543210, {MASKED}, {VANITY}", "message": "Hi Asha, your order is ready"}
    response = client.post("/api/v2/sms/send", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()["data"]
    assert [item["number"] for item in data["accepted"]] == ["+919876543210"]
    assert {item["number"]: item["reason"] for item in data["rejected"]} == {
        MASKED: "invalid_number",
        VANITY: "invalid_number",
    }
    assert list(Message.objects.values_list("recipient", flat=True)) == ["+919876543210"]
    quote = client.post(
        "/api/v2/sms/pricing/quote",
        {"sender": "ACMERT", "to": ["9876543210", MASKED, VANITY], "message": "Hi Asha, your order is ready"},
        format="json",
    ).json()["data"]
    assert quote["recipients"] == 1
    assert {item["number"]: item["reason"] for item in quote["rejected"]} == {
        MASKED: "invalid_number",
        VANITY: "invalid_number",
    }
