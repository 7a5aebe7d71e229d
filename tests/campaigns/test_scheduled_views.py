"""The Scheduled sends page: the account's scheduled API sends with their cutoff, and Cancel for roles that write."""

import zoneinfo
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Message, ScheduledSend
from campaigns.sending.direct import SendRequest, send_messages
from campaigns.states import MessageState
from portal.models import AuditEvent
from tests.campaigns.sending_support import approved_sender, approved_template, prices

pytestmark = pytest.mark.django_db

TEXT = "Hi Asha, your Acme order A1 is ready"
PAGE = "/campaigns/scheduled/"


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def sender(account):
    sender = approved_sender(account)
    approved_template(account, sender, "Hi {{name}}, your Acme order {{order}} is ready", template_type="SI")
    return sender


def scheduled(account, sender, *, minutes: int = 120, numbers=("+919876543210", "+919876543211")) -> ScheduledSend:
    at = timezone.now() + timedelta(minutes=minutes)
    outcome = send_messages(account, SendRequest(sender=sender, recipients=list(numbers), text=TEXT, send_at=at))
    return ScheduledSend.objects.get(uid=outcome.group_id)


def test_the_page_lists_scheduled_sends_with_masked_numbers_the_cutoff_and_cancel(
    client_for, marketer, account, sender
):
    account.mobile_secure = True
    account.save()
    send = scheduled(account, sender)
    html = client_for(marketer).get(PAGE).content.decode()
    assert 'data-testid="scheduled-table"' in html and f'data-group="{send.uid}"' in html
    assert "+91987654XXXX" in html and "+919876543210" not in html
    assert "until 5 minutes before its time" in html
    deadline = timezone.localtime(send.send_at - timedelta(minutes=5), zoneinfo.ZoneInfo(account.time_zone))
    assert html.count('data-testid="cancel-scheduled"') == 1 and 'data-confirm="' in html
    assert deadline.strftime("%Y-%m-%d %H:%M IST") in html  # cancel until, in the account's time zone
    assert 'href="/campaigns/scheduled/"' in html  # in the Campaigns menu


def test_a_viewer_sees_the_list_without_cancel_and_cannot_cancel(client_for, viewer, account, sender):
    send = scheduled(account, sender)
    client = client_for(viewer)
    html = client.get(PAGE).content.decode()
    assert f'data-group="{send.uid}"' in html and 'data-testid="cancel-scheduled"' not in html
    assert client.post(f"/campaigns/scheduled/{send.uid}/cancel/").status_code == 403
    assert ScheduledSend.objects.get(pk=send.pk).cancelled_at is None


def test_cancel_from_the_page_cancels_the_messages_and_says_so(client_for, marketer, account, sender):
    send = scheduled(account, sender)
    client = client_for(marketer)
    response = client.post(f"/campaigns/scheduled/{send.uid}/cancel/", follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    html = response.content.decode()
    assert "Scheduled send cancelled: 2 messages." in html
    assert set(Message.objects.filter(group_id=send.uid).values_list("state", flat=True)) == {MessageState.CANCELLED}
    assert 'data-testid="cancel-scheduled"' not in html and "Cancelled" in html
    assert AuditEvent.objects.get(verb="sms.scheduled.cancelled").actor == marketer


def test_past_the_cutoff_there_is_no_cancel_and_a_post_is_refused(client_for, marketer, account, sender):
    send = scheduled(account, sender, minutes=4)
    client = client_for(marketer)
    assert "Past the cutoff" in client.get(PAGE).content.decode()
    html = client.post(f"/campaigns/scheduled/{send.uid}/cancel/", follow=True).content.decode()
    assert "can be cancelled until 5 minutes before it starts" in html
    assert set(Message.objects.filter(group_id=send.uid).values_list("state", flat=True)) == {MessageState.QUEUED}


def test_another_accounts_send_is_not_listed_and_is_a_404(client_for, marketer, outsider, account, sender):
    send = scheduled(account, sender)
    client = client_for(outsider)
    assert f'data-group="{send.uid}"' not in client.get(PAGE).content.decode()
    assert client.post(f"/campaigns/scheduled/{send.uid}/cancel/").status_code == 404
    assert ScheduledSend.objects.get(pk=send.pk).cancelled_at is None


def test_the_sender_filter_answers_the_rows_alone_over_htmx(client_for, marketer, account, sender):
    other = approved_sender(account, name="ACMEOT")
    approved_template(account, other, "Hi {{name}}, your Acme order {{order}} is ready", "SI", name="Other")
    mine, theirs = scheduled(account, sender), scheduled(account, other)
    fragment = client_for(marketer).get(f"{PAGE}?sender=acmeot", HTTP_HX_REQUEST="true").content.decode()
    assert fragment.strip().startswith('<div id="scheduled-rows">')
    assert f'data-group="{theirs.uid}"' in fragment and f'data-group="{mine.uid}"' not in fragment
