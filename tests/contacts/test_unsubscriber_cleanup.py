"""Deleting every opt-out and restoring the clean-up: the API (as the BICS seed documents it) and the pages."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from contacts.models.unsubscribers import Unsubscriber
from contacts.services_unsubscribers import OPT_OUT_CLEANUP, add_unsubscriber
from contacts.suppression import is_suppressed
from portal import cleanup
from portal.models import AuditEvent, CleanupBatch
from portal.tasks import purge_cleanup_batches

URL = "/api/v2/sms/unsubscribers"
BATCHES = f"{URL}/clean-batches"


def restore_url(batch_id) -> str:
    return f"{URL}/restore-clean/{batch_id}"


@pytest.fixture
def opt_outs(account, admin_user):
    add_unsubscriber(account, admin_user, receiver="+919876543210")
    add_unsubscriber(account, admin_user, receiver="+919876543211", type="tag", value="vip")
    add_unsubscriber(account, admin_user, receiver="+919876543212", type="sender", value="ACMEBK")
    return list(Unsubscriber.objects.filter(account=account).order_by("id").values())


def stored(account) -> list[dict]:
    return list(Unsubscriber.objects.filter(account=account).order_by("id").values())


def test_delete_all_then_list_and_restore_the_batch(api, account, opt_outs):
    client = api("marketer")
    done = client.delete(URL)
    assert done.json() == {"status": "OK", "code": 200, "message": "Deleted Successfully", "data": []}
    assert client.get(URL).json()["meta"]["total"] == 0
    batch_id = done["Clean-Batch"]
    listed = client.get(BATCHES).json()
    assert (listed["message"], listed["meta"]["total"]) == ("Clean-up batches list", 1)
    item = listed["data"][0]
    assert (item["id"], item["kind"], item["state"], item["deleted"]) == (batch_id, "unsubscribers", "restorable", 3)
    assert item["created_by"] == client.user.email and item["restored"] is None
    assert client.get(f"{BATCHES}/{batch_id}").json()["data"]["restorable_until"] == item["restorable_until"]

    restored = client.post(restore_url(batch_id))
    assert restored.status_code == 200, restored.content
    body = restored.json()
    assert (body["message"], body["data"]["state"], body["data"]["restored"], body["data"]["skipped"]) == (
        "Restored Successfully",
        "restored",
        3,
        0,
    )
    assert stored(account) == opt_outs
    assert is_suppressed(account, "+919876543210")
    event = AuditEvent.objects.get(account=account, verb="unsubscriber.clean_restored")
    assert (event.object_id, event.actor, event.after) == (batch_id, client.user, {"restored": 3, "skipped": 0})


def test_restore_reports_numbers_that_opted_out_again(api, account, admin_user, opt_outs):
    client = api()
    batch_id = client.delete(URL)["Clean-Batch"]
    assert client.post(URL, {"receiver": "9876543211", "type": "tag", "value": "VIP"}, format="json").status_code == 201
    data = client.post(restore_url(batch_id)).json()["data"]
    assert (data["restored"], data["skipped"]) == (2, 1)
    assert Unsubscriber.objects.get(account=account, type="tag").source == "api"


def test_a_batch_is_restored_once(api, opt_outs):
    client = api()
    batch_id = client.delete(URL)["Clean-Batch"]
    assert client.post(restore_url(batch_id)).status_code == 200
    again = client.post(restore_url(batch_id))
    assert again.status_code == 409
    assert "restored already" in again.json()["message"]
    assert Unsubscriber.objects.count() == 3


def test_another_accounts_batch_is_not_found(api, account, other_account, outsider, opt_outs):
    add_unsubscriber(other_account, outsider, receiver="+447400123456")
    foreign = api("admin", account_obj=other_account).delete(URL)["Clean-Batch"]
    client = api()
    assert client.get(f"{BATCHES}/{foreign}").status_code == 404
    assert client.post(restore_url(foreign)).status_code == 404
    assert client.get(BATCHES).json()["meta"]["total"] == 0
    assert not Unsubscriber.objects.filter(account=other_account).exists()


def test_an_expired_batch_is_refused_then_purged(api, opt_outs):
    client = api()
    batch_id = client.delete(URL)["Clean-Batch"]
    CleanupBatch.objects.filter(uid=batch_id).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert client.get(f"{BATCHES}/{batch_id}").json()["data"]["state"] == "expired"
    refused = client.post(restore_url(batch_id))
    assert refused.status_code == 409 and "expired" in refused.json()["message"]
    purge_cleanup_batches.delay()
    assert client.post(restore_url(batch_id)).status_code == 404
    assert not Unsubscriber.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "compliance"])
def test_roles_that_cannot_delete_cannot_restore(api, role, opt_outs):
    batch_id = api().delete(URL)["Clean-Batch"]
    client = api(role)
    assert client.get(BATCHES).status_code == 200
    assert client.post(restore_url(batch_id)).status_code == 403
    assert not Unsubscriber.objects.exists()


def test_nothing_to_delete_still_answers_deleted(api):
    done = api().delete(URL)
    assert (done.status_code, done.json()["message"], done.has_header("Clean-Batch")) == (
        200,
        "Deleted Successfully",
        False,
    )


def test_openapi_describes_the_clean_and_the_restore(db):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    clean = paths["/api/v2/sms/unsubscribers/"]["delete"]
    assert "parameters" not in clean and "requestBody" not in clean
    answer = clean["responses"]["200"]
    assert answer["headers"]["Clean-Batch"]["schema"] == {"type": "string", "format": "uuid"}
    envelope = answer["content"]["application/json"]["schema"]["properties"]
    assert (envelope["status"]["enum"], envelope["data"]["maxItems"]) == (["OK"], 0)
    assert "get" in paths["/api/v2/sms/unsubscribers/clean-batches/"]
    restore = paths["/api/v2/sms/unsubscribers/restore-clean/{id}/"]["post"]
    assert {"200", "404", "409"} <= set(restore["responses"])
    assert restore["operationId"] == "sms_unsubscribers_restore_clean"
    assert "requestBody" not in restore


# --- pages ----------------------------------------------------------------------------------------------


def test_delete_all_see_the_batch_and_restore_it_in_the_browser(client_for, admin_user, account, opt_outs):
    client = client_for(admin_user)
    assert client.post(reverse("contacts:unsubscriber_clean"), {"confirm": "nope"}).status_code == 422
    assert Unsubscriber.objects.count() == 3
    cleaned = client.post(reverse("contacts:unsubscriber_clean"), {"confirm": "DELETE ALL"}, follow=True)
    page = cleaned.content.decode()
    assert "All 3 opt-outs deleted" in page and "Recent clean-ups" in page
    batch = CleanupBatch.objects.get()
    url = reverse("contacts:unsubscriber_restore_clean", args=[batch.uid])
    assert f'hx-get="{url}"' in page

    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment
    assert "Put back the 3 opt-outs" in fragment and f'action="{url}"' in fragment
    assert "<html" in client.get(url).content.decode()  # without JavaScript: a page of its own

    restored = client.post(url, follow=True)
    assert "Restored 3 opt-outs." in restored.content.decode()
    assert stored(account) == opt_outs
    assert AuditEvent.objects.filter(verb="unsubscriber.clean_restored", actor=admin_user).exists()
    again = client.post(url, follow=True).content.decode()
    assert "restored already" in again
    assert "Restore…" not in client.get(reverse("contacts:unsubscriber_list")).content.decode()


def test_pages_hide_other_accounts_batches_and_viewers_cannot_restore(
    client_for, admin_user, viewer, account, other_account, outsider, opt_outs
):
    add_unsubscriber(other_account, outsider, receiver="+447400123456")
    foreign = cleanup.clean(other_account, OPT_OUT_CLEANUP, outsider)
    own = cleanup.clean(account, OPT_OUT_CLEANUP, admin_user)
    list_url = reverse("contacts:unsubscriber_list")
    client = client_for(admin_user)
    page = client.get(list_url).content.decode()
    assert reverse("contacts:unsubscriber_restore_clean", args=[own.uid]) in page and str(foreign.uid) not in page
    foreign_url = reverse("contacts:unsubscriber_restore_clean", args=[foreign.uid])
    assert client.get(foreign_url).status_code == 404
    assert client.post(foreign_url).status_code == 404
    viewer_client = client_for(viewer)
    page = viewer_client.get(list_url).content.decode()
    assert "Recent clean-ups" in page and "Restore…" not in page
    assert viewer_client.post(reverse("contacts:unsubscriber_restore_clean", args=[own.uid])).status_code == 403
    assert not Unsubscriber.objects.exists()
