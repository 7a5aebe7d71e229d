"""Removing every blocked template id and restoring the clean-up: the API (as the BICS seed documents it), the
matcher that must block the ids again once restored, and the Blocked templates page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import BlockedTemplate, BlockedTemplateStatus, TemplateStatus
from portal.models import AuditEvent, CleanupBatch
from portal.tasks import purge_cleanup_batches
from tests.campaigns.template_factories import make_sender, make_template

pytestmark = pytest.mark.django_db

URL = "/api/v2/sms/blocked-templates"
BATCHES = f"{URL}/clean-batches"
DLT_ID = "1107161234567890123"
MESSAGE = {"sender": "ACMEIN", "message": "Your Acme OTP is 1234. Do not share it."}


def restore_url(batch_id) -> str:
    return f"{URL}/restore-clean/{batch_id}"


@pytest.fixture
def blocked(account):
    BlockedTemplate.objects.create(account=account, template_id=DLT_ID)
    BlockedTemplate.objects.create(account=account, template_id="1107000000000000009", status=0)
    return list(BlockedTemplate.objects.filter(account=account).order_by("id").values())


def stored(account) -> list[dict]:
    return list(BlockedTemplate.objects.filter(account=account).order_by("id").values())


def matched(client) -> bool:
    return client.post("/api/v2/sms/templates/match", MESSAGE, format="json").json()["data"]["matched"]


def test_clean_then_restore_blocks_the_template_again(api, account, blocked, django_capture_on_commit_callbacks):
    make_template(account, make_sender(account), status=TemplateStatus.APPROVED, dlt_template_id=DLT_ID)
    client = api("compliance")
    assert not matched(client)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.delete(URL)
    assert done.json() == {"status": "OK", "code": 200, "message": "Deleted Successfully", "data": []}
    assert not BlockedTemplate.objects.exists()
    assert matched(client)

    batch_id = done["Clean-Batch"]
    item = client.get(BATCHES).json()["data"][0]
    assert (item["id"], item["kind"], item["deleted"], item["state"]) == (
        batch_id,
        "blocked_templates",
        2,
        "restorable",
    )
    with django_capture_on_commit_callbacks(execute=True):
        restored = client.post(restore_url(batch_id))
    assert restored.json()["message"] == "Restored Successfully"
    assert (restored.json()["data"]["restored"], restored.json()["data"]["skipped"]) == (2, 0)
    assert stored(account) == blocked  # the inactive entry stays inactive, ids and times as they were
    assert not matched(client)
    assert AuditEvent.objects.filter(verb="blocked_template.clean_restored", object_id=batch_id).exists()
    assert AuditEvent.objects.get(verb="blocked_template.cleaned").after["deleted"] == 2


def test_ids_blocked_again_meanwhile_are_skipped(api, account, blocked):
    client = api("compliance")
    batch_id = client.delete(URL)["Clean-Batch"]
    assert client.post(URL, {"template_id": DLT_ID, "status": 0}, format="json").status_code == 201
    data = client.post(restore_url(batch_id)).json()["data"]
    assert (data["restored"], data["skipped"]) == (1, 1)
    assert BlockedTemplate.objects.get(template_id=DLT_ID).status == BlockedTemplateStatus.INACTIVE


def test_restore_twice_other_accounts_and_roles(api, account, other_account, blocked):
    BlockedTemplate.objects.create(account=other_account, template_id=DLT_ID)
    foreign = api("compliance", account_obj=other_account).delete(URL)["Clean-Batch"]
    client = api("compliance")
    assert client.post(restore_url(foreign)).status_code == 404
    assert client.get(f"{BATCHES}/{foreign}").status_code == 404
    batch_id = client.delete(URL)["Clean-Batch"]
    assert api("marketer").post(restore_url(batch_id)).status_code == 403
    assert client.post(restore_url(batch_id)).status_code == 200
    again = client.post(restore_url(batch_id))
    assert (again.status_code, again.json()["status"]) == (409, "error")
    assert not BlockedTemplate.objects.filter(account=other_account).exists()


def test_an_expired_batch_is_refused_then_purged(api, blocked):
    client = api("compliance")
    batch_id = client.delete(URL)["Clean-Batch"]
    CleanupBatch.objects.filter(uid=batch_id).update(expires_at=timezone.now() - timedelta(days=1))
    assert client.post(restore_url(batch_id)).status_code == 409
    assert purge_cleanup_batches.delay().get() == 1
    assert client.get(f"{BATCHES}/{batch_id}").status_code == 404
    assert not BlockedTemplate.objects.exists()


def test_remove_all_see_the_batch_and_restore_it_in_the_browser(
    client_for, compliance_user, marketer, account, blocked
):
    client = client_for(compliance_user)
    list_url = reverse("campaigns:blockedtemplate_list")
    client.post(reverse("campaigns:blockedtemplate_clean"), {"confirm": "nope"})
    assert BlockedTemplate.objects.count() == 2
    page = client.post(reverse("campaigns:blockedtemplate_clean"), {"confirm": "DELETE ALL"}, follow=True)
    text = page.content.decode()
    assert "Removed 2 blocked template ids" in text and "Recent clean-ups" in text
    batch = CleanupBatch.objects.get()
    url = reverse("campaigns:blockedtemplate_restore_clean", args=[batch.uid])
    assert f'hx-get="{url}"' in text
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "Put back the 2 blocked template ids" in fragment
    assert client_for(marketer).post(url).status_code == 403
    client = client_for(compliance_user)
    done = client.post(url, follow=True).content.decode()
    assert "Restored 2 blocked template ids." in done
    assert stored(account) == blocked
    assert "restored" in client.get(list_url).content.decode()
