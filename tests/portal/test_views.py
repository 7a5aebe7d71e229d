"""Portal pages: login, dashboard, account switcher, API tokens UI, account settings, audit log, health."""

import pytest

from portal.accounts import add_member
from portal.models import ApiToken, AuditEvent
from portal.roles import Role

pytestmark = pytest.mark.django_db


def test_pages_need_login(client):
    response = client.get("/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_login_page_renders_labelled_form(client):
    html = client.get("/accounts/login/").content.decode()
    assert 'for="id_username"' in html and 'for="id_password"' in html


def test_login_with_bad_password_says_so(client, admin_user):
    response = client.post("/accounts/login/", {"username": admin_user.username, "password": "wrong"})
    assert response.status_code == 200 and "did not match" in response.content.decode()


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MARKETER, Role.COMPLIANCE, Role.VIEWER])
def test_dashboard_renders_for_every_role(client_for, account, role, django_user_model):
    user = django_user_model.objects.create_user(username=f"{role}@x.example", email=f"{role}@x.example")
    add_member(account, user, role)
    response = client_for(user).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert account.name in html and "Nothing has happened in this account yet." in html
    assert response["Vary"].count("HX-Request") == 1


def test_user_without_account_gets_a_clear_403(client_for, django_user_model):
    user = django_user_model.objects.create_user(username="lonely@x.example")
    response = client_for(user).get("/")
    assert response.status_code == 403


def test_account_switcher_changes_the_current_account(client_for, admin_user, account, other_account):
    add_member(other_account, admin_user, Role.VIEWER)
    client = client_for(admin_user)
    assert account.name in client.get("/").content.decode()
    response = client.post("/switch-account/", {"account": str(other_account.uid), "next": "/"})
    assert response.status_code == 302
    html = client.get("/").content.decode()
    assert f"<h1>{other_account.name}</h1>" in html and ">viewer<" in html


def test_switching_to_a_foreign_account_is_404(client_for, admin_user, other_account):
    response = client_for(admin_user).post("/switch-account/", {"account": str(other_account.uid)})
    assert response.status_code == 404


def test_token_ui_shows_the_token_once_and_stores_a_hash(client_for, admin_user):
    client = client_for(admin_user)
    response = client.post(
        "/developers/tokens/", {"name": "CRM", "allowed_ips": "203.0.113.0/24"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    token = ApiToken.objects.get(name="CRM")
    assert "Copy your new token now" in html and token.display_prefix in html
    raw = html.split('id="new-token-value">', 1)[1].split("<", 1)[0]
    assert token.matches(raw) and raw not in token.token_hash
    assert "<html" not in html
    assert raw not in client.get("/developers/tokens/").content.decode()
    assert token.allowed_ips == ["203.0.113.0/24"]


def test_token_ui_reports_bad_input(client_for, admin_user):
    response = client_for(admin_user).post("/developers/tokens/", {"name": "", "allowed_ips": "nope"})
    html = response.content.decode()
    assert "This field is required." in html and "is not an IP address" in html
    assert not ApiToken.objects.exists()


def test_viewer_tokens_are_read_only(client_for, viewer):
    client_for(viewer).post("/developers/tokens/", {"name": "mine"})
    assert ApiToken.objects.get(name="mine").read_only is True


def test_revoke_from_the_ui(client_for, admin_user, api):
    other = api("marketer")
    client_for(admin_user).post(f"/developers/tokens/{other.token.uid}/revoke/")
    other.token.refresh_from_db()
    assert other.token.is_active is False
    assert AuditEvent.objects.filter(verb="token.revoked").exists()


def test_marketer_cannot_revoke_someone_elses_token(client_for, marketer, api):
    admin_token = api().token
    response = client_for(marketer).post(f"/developers/tokens/{admin_token.uid}/revoke/")
    assert response.status_code == 404


def test_account_settings_admin_saves_and_audits(client_for, admin_user, account):
    data = {
        "name": "Acme",
        "default_country": "gb",
        "time_zone": "Europe/London",
        "entity_type": "bank",
        "mobile_secure": "on",
        "brand_names": "Acme, AcmePay",
    }
    response = client_for(admin_user).post("/settings/account/", data)
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.default_country == "GB" and account.mobile_secure and account.brand_names == ["Acme", "AcmePay"]
    assert AuditEvent.objects.filter(verb="account.updated").exists()


def test_account_settings_reject_bad_values(client_for, admin_user):
    data = {"name": "Acme", "default_country": "XX", "time_zone": "Mars/Olympus", "entity_type": "bank"}
    html = client_for(admin_user).post("/settings/account/", data).content.decode()
    assert "Unknown time zone" in html and "is not an ISO 3166 country code" in html


def test_account_settings_are_read_only_for_marketers(client_for, marketer):
    client = client_for(marketer)
    assert "Only account admins" in client.get("/settings/account/").content.decode()
    assert client.post("/settings/account/", {"name": "x"}).status_code == 403


def test_audit_log_filters_by_verb(client_for, admin_user, api):
    api("marketer")
    client = client_for(admin_user)
    client.post("/developers/tokens/", {"name": "A"})
    html = client.get("/settings/audit/?verb=token.created", HTTP_HX_REQUEST="true").content.decode()
    assert "token.created" in html and "<html" not in html


def test_admin_adds_a_new_member_who_gets_a_reset_mail(
    client_for, admin_user, account, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(admin_user).post(
            "/settings/members/", {"email": "new@acme.example", "role": "compliance"}
        )
    assert response.status_code == 302
    membership = account.memberships.get(user__email="new@acme.example")
    assert membership.role == "compliance" and not membership.user.has_usable_password()
    assert len(mailoutbox) == 1 and "new@acme.example" in mailoutbox[0].to
    link = mailoutbox[0].body.split("http://testserver", 1)[1].split()[0]
    assert client_for(admin_user).get(link, follow=True).status_code == 200


def test_adding_a_member_twice_or_a_bad_email_is_explained(client_for, admin_user):
    client = client_for(admin_user)
    html = client.post("/settings/members/", {"email": admin_user.email, "role": "viewer"}).content.decode()
    assert "already a member" in html
    html = client.post("/settings/members/", {"email": "not-an-email", "role": "viewer"}).content.decode()
    assert "Enter a valid email address." in html


def test_the_last_admin_cannot_be_demoted_or_removed(client_for, admin_user, account):
    membership = account.memberships.get(user=admin_user)
    client = client_for(admin_user)
    client.post(f"/settings/members/{membership.pk}/", {"role": "viewer"})
    client.post(f"/settings/members/{membership.pk}/", {"action": "remove"})
    membership.refresh_from_db()
    assert membership.role == "admin"


def test_role_change_is_audited_and_marketers_cannot_manage(client_for, admin_user, marketer, account):
    membership = account.memberships.get(user=marketer)
    client_for(admin_user).post(f"/settings/members/{membership.pk}/", {"role": "viewer"})
    membership.refresh_from_db()
    assert membership.role == "viewer"
    assert AuditEvent.objects.filter(verb="member.role_changed").exists()


def test_members_of_other_accounts_are_404(client_for, admin_user, outsider, other_account):
    foreign = other_account.memberships.get(user=outsider)
    response = client_for(admin_user).post(f"/settings/members/{foreign.pk}/", {"action": "remove"})
    assert response.status_code == 404


def test_password_reset_sends_a_working_link(client, admin_user, mailoutbox):
    response = client.post("/accounts/password/reset/", {"email": admin_user.email})
    assert response.status_code == 302 and len(mailoutbox) == 1
    link = next(word for word in mailoutbox[0].body.split() if "/accounts/password/reset/" in word)
    form_page = client.get(link.replace("http://testserver", ""), follow=True)
    assert b"Choose a new password" in form_page.content
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "A-much-better-pw-42", "new_password2": "A-much-better-pw-42"},
    )
    assert done.status_code == 302
    admin_user.refresh_from_db()
    assert admin_user.check_password("A-much-better-pw-42")


def test_password_change_requires_the_old_password(client_for, admin_user):
    client = client_for(admin_user)
    data = {"old_password": "wrong", "new_password1": "A-much-better-pw-42", "new_password2": "A-much-better-pw-42"}
    html = client.post("/accounts/password/change/", data).content.decode()
    assert "Your old password was entered incorrectly" in html


def test_unknown_api_path_is_json_even_in_debug(client, settings):
    settings.DEBUG = True
    response = client.get("/api/v2/definitely/not/here")
    assert response.status_code == 404 and response.json()["code"] == 404


def test_pages_show_times_in_the_accounts_time_zone(client_for, admin_user, account):
    from datetime import UTC, datetime

    AuditEvent.objects.create(
        account=account, verb="x.done", object_type="t", object_id="1", at=datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    )
    html = client_for(admin_user).get("/settings/audit/").content.decode()
    assert "2026-01-01 17:30" in html


def test_audit_log_masks_numbers_for_mobile_secure_accounts(client_for, admin_user, account):
    account.mobile_secure = True
    account.save()
    AuditEvent.objects.create(
        account=account,
        verb="contact.updated",
        object_type="contacts.contact",
        object_id="1",
        object_repr="+919876543210",
        before={"phone": "+919876543210"},
        after={"phone": "+919876500000"},
    )
    html = client_for(admin_user).get("/settings/audit/").content.decode()
    assert "+91987654XXXX" in html and "+919876543210" not in html and "+919876500000" not in html
    assert "{&#x27;" not in html


def test_api_docs_without_trailing_slash_redirect(client):
    response = client.get("/api/v2/docs")
    assert response.status_code == 301 and response["Location"] == "/api/v2/docs/"
