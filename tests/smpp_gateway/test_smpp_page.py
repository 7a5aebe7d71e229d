"""Developers → SMPP through the Django test client: create (password shown once), edit, rotate, deactivate,
delete; where to connect; the sessions bound now and the refused binds; admins change, others read."""

from pathlib import Path

import pytest

from campaigns.models import SmppCredential
from campaigns.smpp_gateway import statuses
from campaigns.smpp_gateway.credentials import issue_credential
from tests.smpp_gateway.gateway_rows import bind_failure, bound_session

pytestmark = pytest.mark.django_db

PAGE = "/campaigns/smpp/"
HTMX = {"HX-Request": "true"}
NEW = {"system_id": "", "label": "Billing", "allowed_ips": "203.0.113.7\n198.51.100.0/24", "bind_limit": "2"}
NEW |= {"throughput": "25", "window": "10"}


@pytest.fixture
def web(client_for, admin_user):
    return client_for(admin_user)


def text(response, status: int = 200) -> str:
    assert response.status_code == status, response.content[:500]
    return response.content.decode()


def test_the_page_shows_where_to_connect(web, settings):
    page = text(web.get(PAGE))
    assert "<code>testserver</code>" in page and "<code>2775</code>" in page and "TLS port" not in page
    assert "<code>smpp</code>" in page and "<code>0x34</code>" in page
    settings.SMPP_PUBLIC_HOST, settings.SMPP_PORT, settings.SMPP_TLS_PORT = "smpp.example.com", 3634, 3635
    page = text(web.get(PAGE))
    assert "<code>smpp.example.com</code>" in page and "<code>3634</code>" in page and "<code>3635</code>" in page


def test_create_shows_the_password_once(web, account):
    page = text(web.post(PAGE, NEW))
    credential = SmppCredential.objects.get(account=account)
    password = page.split('id="new-smpp-password">', 1)[1].split("<", 1)[0]
    assert credential.check_password(password) and credential.system_id == account.slug[:15]
    assert (credential.label, credential.bind_limit, credential.throughput) == ("Billing", 2, 25)
    assert credential.allowed_ips == ["203.0.113.7/32", "198.51.100.0/24"] and credential.created_by is not None
    later = text(web.get(PAGE))
    assert password not in later and f"<code>{credential.system_id}</code>" in later


def test_an_htmx_create_answers_the_panel_only(web, account):
    panel = text(web.post(PAGE, NEW | {"system_id": "acme-esme"}, headers=HTMX))
    assert panel.lstrip().startswith('<div id="smpp-panel">') and "<html" not in panel
    assert 'data-testid="new-smpp-password"' in panel and "acme-esme" in panel


def test_a_refused_create_shows_the_field_errors(web, account, other_account):
    issue_credential(other_account, system_id="taken")
    page = text(web.post(PAGE, NEW | {"system_id": "taken", "bind_limit": "0", "allowed_ips": "nope"}), 422)
    assert "already taken" in page and "Between 1 and" in page and "is not an IP address" in page
    assert not SmppCredential.objects.filter(account=account).exists()


def test_edit_changes_the_settings(web, account):
    credential = issue_credential(account, system_id="acme1", allowed_ips=["192.0.2.1"]).credential
    url = f"{PAGE}{credential.uid}/edit/"
    form = text(web.get(url))
    assert "192.0.2.1/32" in form and 'name="system_id"' not in form
    refused = text(web.post(url, {"label": "x", "bind_limit": "999", "throughput": "5", "window": "5"}), 422)
    assert "Between 1 and" in refused
    response = web.post(url, {"label": "CRM", "allowed_ips": "", "bind_limit": "4", "throughput": "5", "window": "7"})
    assert response.status_code == 302 and response.url == PAGE
    credential.refresh_from_db()
    assert (credential.label, credential.allowed_ips, credential.bind_limit, credential.window) == ("CRM", [], 4, 7)
    assert not credential.is_active  # the box was not ticked


def test_rotate_shows_the_new_password_once(web, account):
    issued = issue_credential(account, system_id="acme2")
    page = text(web.post(f"{PAGE}{issued.credential.uid}/rotate/"))
    password = page.split('id="new-smpp-password">', 1)[1].split("<", 1)[0]
    issued.credential.refresh_from_db()
    assert password != issued.password and issued.credential.check_password(password)
    assert not issued.credential.check_password(issued.password)
    assert password not in text(web.get(PAGE))


def test_deactivate_activate_and_delete(web, account):
    credential = issue_credential(account, system_id="acme3").credential
    assert web.post(f"{PAGE}{credential.uid}/deactivate/").status_code == 302
    credential.refresh_from_db()
    assert not credential.is_active
    assert web.post(f"{PAGE}{credential.uid}/activate/").status_code == 302
    credential.refresh_from_db()
    assert credential.is_active
    assert web.post(f"{PAGE}{credential.uid}/explode/").status_code == 404
    assert web.post(f"{PAGE}{credential.uid}/delete/").status_code == 302
    assert not SmppCredential.objects.filter(pk=credential.pk).exists()


def test_the_page_shows_the_accounts_sessions_and_refused_binds(web, account, other_account):
    credential = issue_credential(account, system_id="acme4").credential
    bound_session(credential, address="10.9.8.7:5555", rate=12.5, submitted=321, refused=4, delivered=300)
    bound_session(credential, address="10.0.0.66:1", seen_seconds_ago=3600)  # a dead server's
    bound_session(issue_credential(other_account, system_id="other").credential, address="10.0.0.77:1")
    bind_failure(account, "acme4", address="198.51.100.23", reason="Address not allowed.")
    bind_failure(other_account, "other", address="198.51.100.99")
    page = text(web.get(PAGE))
    assert "10.9.8.7:5555" in page and "12.5" in page and "321" in page and "Transceiver" in page
    assert "10.0.0.66" not in page and "10.0.0.77" not in page
    assert "198.51.100.23" in page and "Address not allowed." in page and "0x0000000E" in page
    assert "198.51.100.99" not in page
    live = text(web.get(f"{PAGE}?part=live", headers=HTMX))
    assert live.lstrip().startswith('<div id="smpp-live"') and "10.9.8.7:5555" in live


def test_other_roles_read_only_admins_change(client_for, marketer, account):
    credential = issue_credential(account, system_id="acme5").credential
    web = client_for(marketer)
    page = text(web.get(PAGE))
    assert "acme5" in page and "Create credential" not in page and "Rotate password" not in page
    for url in (PAGE, f"{PAGE}{credential.uid}/rotate/", f"{PAGE}{credential.uid}/delete/"):
        assert web.post(url, NEW).status_code == 403
    assert web.get(f"{PAGE}{credential.uid}/edit/").status_code == 403
    assert web.post(f"{PAGE}{credential.uid}/edit/", NEW).status_code == 403
    assert SmppCredential.objects.filter(account=account).count() == 1


def test_another_accounts_credential_is_a_404(web, other_account):
    theirs = issue_credential(other_account, system_id="theirs").credential
    assert web.get(f"{PAGE}{theirs.uid}/edit/").status_code == 404
    for action in ("rotate", "deactivate", "delete"):
        assert web.post(f"{PAGE}{theirs.uid}/{action}/").status_code == 404
    assert "theirs" not in text(web.get(PAGE))
    assert SmppCredential.objects.get(pk=theirs.pk).is_active


def test_the_menu_lists_smpp_under_developers(web):
    page = text(web.get("/"))
    assert f'href="{PAGE}"' in page


def test_the_page_and_the_readme_list_every_command_status(web, settings):
    settings.SMPP_IDLE_SECONDS = 240
    page = text(web.get(PAGE))
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert "silent for 240 s is unbound" in page
    for status in statuses.TABLE:
        assert f"<td><code>{status.hex}</code></td><td><code>{status.name}</code></td>" in page
        assert f"| `{status.hex}` | `{status.name}` | {status.when} |" in readme, status.name
