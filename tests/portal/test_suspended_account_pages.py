"""A suspended account's users can still read its pages, but nothing they submit changes or sends anything."""

import pytest

from portal.models import AccountStatus, ApiToken, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def suspended(account):
    account.status = AccountStatus.INACTIVE
    account.save(update_fields=["status"])
    return account


def test_pages_can_be_read(client_for, admin_user, suspended):
    client = client_for(admin_user)
    assert client.get("/").status_code == 200
    assert client.get("/developers/tokens/").status_code == 200
    assert client.get("/contacts/").status_code == 200


def test_a_form_submission_is_refused_with_the_reason_and_writes_nothing(client_for, admin_user, suspended):
    response = client_for(admin_user).post("/developers/tokens/", {"name": "CRM"})
    assert response.status_code == 403
    assert "This account is suspended" in response.content.decode()
    assert not ApiToken.objects.filter(name="CRM").exists()


def test_an_active_account_submits_as_before(client_for, admin_user, account):
    assert client_for(admin_user).post("/developers/tokens/", {"name": "CRM"}).status_code == 200
    assert ApiToken.objects.filter(name="CRM").exists()


def test_a_role_refusal_explains_itself(client_for, marketer):
    response = client_for(marketer).post("/settings/account/", {"name": "Renamed"})
    assert response.status_code == 403
    assert "Your role (marketer) may not do this." in response.content.decode()


def test_platform_staff_suspend_and_resume_from_the_django_admin(client, staff_user, account):
    staff_user.is_superuser = True
    staff_user.save(update_fields=["is_superuser"])
    client.force_login(staff_user)
    changelist = "/admin/portal/account/"
    response = client.post(changelist, {"action": "suspend_selected", "_selected_action": [account.pk]}, follow=True)
    assert "1 account(s) suspended." in response.content.decode()
    account.refresh_from_db()
    assert account.status == AccountStatus.INACTIVE
    assert AuditEvent.objects.for_account(account).filter(verb="account.suspended", actor=staff_user).exists()
    client.post(changelist, {"action": "resume_selected", "_selected_action": [account.pk]})
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
