import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from contacts.models.unsubscribers import InboundSettings, Unsubscriber
from contacts.services_inbound import receive_inbound
from contacts.services_unsubscribers import (
    account_for_inbound_token,
    add_unsubscriber,
    settings_for,
)
from portal.models import AuditEvent


@pytest.fixture
def admin_client(client_for, admin_user):
    return client_for(admin_user)


def test_list_shows_search_and_filters(admin_client, account, admin_user, other_account, outsider):
    add_unsubscriber(account, admin_user, receiver="+919876543210", type="sender", value="ACMEBK")
    add_unsubscriber(account, admin_user, receiver="+919876543211", type="tag", value="vip")
    add_unsubscriber(other_account, outsider, receiver="+447400123456")
    url = reverse("contacts:unsubscriber_list")
    page = admin_client.get(url).content.decode()
    assert "+919876543210" in page and "+919876543211" in page
    assert "+447400123456" not in page
    partial = admin_client.get(url, {"q": "09876543210"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert "+919876543210" in partial and "+919876543211" not in partial
    by_type = admin_client.get(url, {"type": "tag"}).content.decode()
    assert "+919876543211" in by_type and "+919876543210" not in by_type


def test_numbers_are_masked_for_mobile_secure_accounts(admin_client, account, admin_user):
    account.mobile_secure = True
    account.save()
    add_unsubscriber(account, admin_user, receiver="+919876543210")
    page = admin_client.get(reverse("contacts:unsubscriber_list")).content.decode()
    assert "+919876543210" not in page
    assert "+91987654XXXX" in page


def test_add_a_pasted_list(admin_client, account):
    response = admin_client.post(
        reverse("contacts:unsubscriber_create"),
        {"receivers": "+91 98765 43210\n919876543211, 09876543212", "type": "product", "value": "PROMO"},
    )
    assert response.status_code == 302
    rows = set(Unsubscriber.objects.filter(account=account).values_list("receiver", "type", "value", "source"))
    assert rows == {(f"+91987654321{d}", "product", "PROMO", "manual") for d in "012"}


def test_add_reports_invalid_numbers_and_keeps_the_valid_ones(admin_client, account):
    response = admin_client.post(
        reverse("contacts:unsubscriber_create"), {"receivers": "9876543210\n12345", "type": "all"}
    )
    assert response.status_code == 200
    assert "12345" in response.content.decode()
    assert Unsubscriber.objects.filter(account=account).count() == 1


def test_add_needs_a_value_for_scoped_types(admin_client, account):
    response = admin_client.post(reverse("contacts:unsubscriber_create"), {"receivers": "9876543210", "type": "tag"})
    assert response.status_code == 422
    assert "required for type tag" in response.content.decode()
    assert not Unsubscriber.objects.exists()


def test_edit_and_delete(admin_client, account, admin_user):
    optout, _ = add_unsubscriber(account, admin_user, receiver="+919876543210")
    edit = reverse("contacts:unsubscriber_edit", args=[optout.uid])
    assert admin_client.get(edit).status_code == 200
    response = admin_client.post(edit, {"receiver": "09876543219", "type": "sender", "value": "ACMEBK"})
    assert response.status_code == 302
    optout.refresh_from_db()
    assert (optout.receiver, optout.type, optout.value) == ("+919876543219", "sender", "ACMEBK")
    assert admin_client.post(reverse("contacts:unsubscriber_delete", args=[optout.uid])).status_code == 302
    assert not Unsubscriber.objects.exists()


def test_another_accounts_opt_out_is_404(admin_client, other_account, outsider):
    foreign, _ = add_unsubscriber(other_account, outsider, receiver="+447400123456")
    assert admin_client.get(reverse("contacts:unsubscriber_edit", args=[foreign.uid])).status_code == 404
    assert admin_client.post(reverse("contacts:unsubscriber_delete", args=[foreign.uid])).status_code == 404
    assert Unsubscriber.objects.filter(pk=foreign.pk).exists()


def test_clean_all_needs_the_typed_confirmation(admin_client, account, admin_user):
    add_unsubscriber(account, admin_user, receiver="+919876543210")
    url = reverse("contacts:unsubscriber_clean")
    assert "Delete all 1 opt-out" in admin_client.get(url).content.decode()
    refused = admin_client.post(url, {"confirm": "delete"})
    assert refused.status_code == 422
    assert Unsubscriber.objects.count() == 1
    assert "restore them from the" in refused.content.decode()
    assert admin_client.post(url, {"confirm": "delete all"}).status_code == 302
    assert not Unsubscriber.objects.exists()
    assert AuditEvent.objects.filter(account=account, verb="unsubscriber.cleaned").exists()


def test_viewer_reads_but_cannot_write(client_for, viewer, account, admin_user):
    optout, _ = add_unsubscriber(account, admin_user, receiver="+919876543210")
    client = client_for(viewer)
    page = client.get(reverse("contacts:unsubscriber_list"))
    assert page.status_code == 200
    assert reverse("contacts:unsubscriber_create") not in page.content.decode()
    assert client.get(reverse("contacts:unsubscriber_create")).status_code == 403
    assert client.post(reverse("contacts:unsubscriber_create"), {"receivers": "9876543211"}).status_code == 403
    assert client.post(reverse("contacts:unsubscriber_delete", args=[optout.uid])).status_code == 403
    assert client.post(reverse("contacts:unsubscriber_clean"), {"confirm": "DELETE ALL"}).status_code == 403
    assert client.post(reverse("contacts:unsubscriber_settings"), {"rotate_token": "1"}).status_code == 403
    assert Unsubscriber.objects.count() == 1


def test_import_page(admin_client, account):
    upload = SimpleUploadedFile("optouts.csv", b"number\n9876543210\n9876543211\nnope\n", content_type="text/csv")
    response = admin_client.post(
        reverse("contacts:unsubscriber_import"), {"file": upload, "type": "all"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="import-panel"' in body and "<html" not in body
    assert "<strong>2</strong> added" in body
    assert Unsubscriber.objects.filter(account=account, source="import").count() == 2


def test_export_csv_is_filtered_and_formula_safe(admin_client, account, admin_user):
    add_unsubscriber(account, admin_user, receiver="+919876543210", type="tag", value="=HYPERLINK()")
    add_unsubscriber(account, admin_user, receiver="+919876543211", type="all")
    response = admin_client.get(reverse("contacts:unsubscriber_export"), {"type": "tag"})
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,receiver,iso,type,value")
    assert len(lines) == 2
    assert ",+919876543210,IN,tag,'=HYPERLINK()," in lines[1]


def test_inbound_list(admin_client, account, other_account):
    receive_inbound(account, from_number="+919876543210", to="ACMEBK", text="STOP", provider_id="1")
    receive_inbound(other_account, from_number="+447400123456", text="secret", provider_id="2")
    page = admin_client.get(reverse("contacts:inbound_list")).content.decode()
    assert "+919876543210" in page and "Opted out" in page and 'data-testid="opted-out"' in page
    assert "secret" not in page


def test_settings_admin_edits_and_rotates_the_token(admin_client, account):
    url = reverse("contacts:unsubscriber_settings")
    response = admin_client.post(
        url,
        {
            "stop_words": "stop, arret",
            "start_words": "start",
            "scope": "sender",
            "send_confirmation": "on",
            "confirmation_text": "Bye",
        },
    )
    assert response.status_code == 302
    settings = settings_for(account)
    assert (settings.stop_words, settings.scope, settings.send_confirmation) == (["STOP", "ARRET"], "sender", True)
    page = admin_client.post(url, {"rotate_token": "1"}).content.decode()
    raw = page.split('id="new-inbound-token-value">')[1].split("<")[0]
    assert account_for_inbound_token(raw) == account
    assert raw not in admin_client.get(url).content.decode()


def test_settings_refuse_an_empty_stop_list(admin_client, account):
    response = admin_client.post(reverse("contacts:unsubscriber_settings"), {"stop_words": " , ", "scope": "all"})
    assert response.status_code == 422
    assert InboundSettings.objects.get(account=account).stop_words[0] == "STOP"


def test_opted_out_badge_and_number_list(account, admin_user):
    add_unsubscriber(account, admin_user, receiver="+919876543210")
    add_unsubscriber(account, admin_user, receiver="+919876543211", type="tag", value="vip")
    request = RequestFactory().get("/")
    request.account, request.role = account, "marketer"
    template = Template("{% load optout %}[{% opted_out a %}][{% opted_out b %}][{% opted_out c %}]{% optouts_for b %}")
    html = template.render(Context({"request": request, "a": "+919876543210", "b": "+919876543211", "c": "+91"}))
    assert "opted out</span>" in html and "partly opted out" in html
    assert html.count('data-testid="opted-out"') == 2
    assert "tag vip" in html
    assert "Add an opt-out for this number" in html


def test_add_form_takes_the_number_from_the_link(admin_client):
    page = admin_client.get(reverse("contacts:unsubscriber_create"), {"receiver": "+919876543210"}).content.decode()
    assert "+919876543210</textarea>" in page


def test_import_status_is_polled_until_done_and_scoped(admin_client, account, admin_user, other_account, outsider):
    from contacts.models.imports import ImportKind, ImportState
    from contacts.services_imports import create_import
    from contacts.unsubscriber_import import start_unsubscriber_import

    queued = create_import(
        account, admin_user, SimpleUploadedFile("a.txt", b"9876543210"), kind=ImportKind.UNSUBSCRIBERS
    )
    status = reverse("contacts:unsubscriber_import_status", args=[queued.uid])
    body = admin_client.get(status, HTTP_HX_REQUEST="true").content.decode()
    assert 'hx-trigger="load delay:1s"' in body and "<progress" in body
    done = start_unsubscriber_import(account, admin_user, SimpleUploadedFile("b.txt", b"9876543211"))
    assert done.state == ImportState.DONE
    body = admin_client.get(reverse("contacts:unsubscriber_import_status", args=[done.uid])).content.decode()
    assert "hx-trigger" not in body.split('id="import-status"')[1].split(">")[0]
    foreign = start_unsubscriber_import(other_account, outsider, SimpleUploadedFile("c.txt", b"7400123456"))
    assert admin_client.get(reverse("contacts:unsubscriber_import_status", args=[foreign.uid])).status_code == 404


def test_settings_choose_the_reply_sender_among_approved_senders(admin_client, account, other_account):
    from tests.campaigns.sending_support import approved_sender

    approved_sender(account, "ACMERT")
    approved_sender(other_account, "OTHERS")
    url = reverse("contacts:unsubscriber_settings")
    page = admin_client.get(url).content.decode()
    assert '<option value="ACMERT">ACMERT</option>' in page and "OTHERS" not in page
    fields = {"stop_words": "stop", "scope": "all", "send_confirmation": "on", "confirmation_text": "Bye"}
    assert admin_client.post(url, {**fields, "reply_sender": "ACMERT"}).status_code == 302
    assert settings_for(account).reply_sender == "ACMERT"
    refused = admin_client.post(url, {**fields, "reply_sender": "OTHERS"})
    assert refused.status_code == 422 and "Select a valid choice" in refused.content.decode()
    assert settings_for(account).reply_sender == "ACMERT"
    assert admin_client.post(url, {**fields, "reply_sender": ""}).status_code == 302
    assert settings_for(account).reply_sender == ""


def test_a_reply_sender_no_longer_approved_stays_visible(admin_client, account, admin_user):
    from campaigns.models import SenderStatus
    from contacts.services_unsubscribers import update_settings
    from tests.campaigns.sending_support import approved_sender

    sender = approved_sender(account, "GONE")
    update_settings(account, admin_user, reply_sender="GONE")
    sender.status = SenderStatus.REJECTED
    sender.save()
    page = admin_client.get(reverse("contacts:unsubscriber_settings")).content.decode()
    assert '<option value="GONE" selected>GONE (not approved)</option>' in page
