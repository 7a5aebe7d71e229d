"""Secrets encrypted at rest (issue 16, defect 9): webhook signing secrets and connector passwords never reach
the database in plain text, read back for signing and binding, survive key rotation, legacy plain values are
encrypted by the data migration, and a missing key is a clear error."""

import importlib
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from standardwebhooks.webhooks import Webhook as StandardWebhook

from campaigns.connectors import connector_for
from campaigns.connectors.settings import smpp_settings
from campaigns.models import Connector
from portal.accounts import add_member
from portal.models import Webhook
from portal.roles import Role
from portal.secrets_at_rest import PREFIX, SecretDecryptionError, check_encryption_keys, decrypt, encrypt
from tests.campaigns.test_connectors import fake_message

pytestmark = pytest.mark.django_db

KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()
SMPP = {"host": "smsc.example.net", "port": 2775, "system_id": "acme"}


@pytest.fixture(autouse=True)
def _keys(settings):
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A]


@pytest.fixture
def staff_api(api, account, staff_user):
    add_member(account, staff_user, Role.ADMIN)
    return api(user=staff_user)


def raw_rows(table: str, *columns: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY id")
        return cursor.fetchall()


def set_raw(table: str, column: str, value: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s", [value])


def create_webhook(client, url: str) -> dict:
    response = client.post("/api/v2/webhooks", {"name": "CRM", "uri": url}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def create_connector(client, **body) -> dict:
    response = client.post("/api/v2/sms/connectors", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["data"]


def test_a_webhook_secret_is_encrypted_in_its_row_and_still_signs(api, live_http_receiver):
    client = api()
    created = create_webhook(client, live_http_receiver.url("/in"))
    rotated = client.post(f"/api/v2/webhooks/{created['id']}/rotate-secret").json()["data"]["secret"]
    ((secret, previous),) = raw_rows("portal_webhook", "secret", "previous_secret")
    assert secret.startswith(PREFIX) and previous.startswith(PREFIX)
    dump = secret + previous
    assert "whsec_" not in dump and created["secret"] not in dump and rotated not in dump
    webhook = Webhook.objects.get()
    assert (webhook.secret, webhook.previous_secret) == (rotated, created["secret"])
    assert client.post(f"/api/v2/webhooks/{created['id']}/ping").json()["data"]["state"] == "succeeded"
    (received,) = live_http_receiver.requests
    StandardWebhook(rotated).verify(received.body, received.headers)
    StandardWebhook(created["secret"]).verify(received.body, received.headers)


def test_an_smpp_password_is_encrypted_in_its_row_and_binds_with_the_plain_one(staff_api):
    created = create_connector(staff_api, name="Carrier", kind="smpp", config=SMPP, password="s3cret-bind")
    ((stored,),) = raw_rows("campaigns_connector", "secret")
    assert stored.startswith(PREFIX) and "s3cret-bind" not in stored
    assert created["has_password"] is True and "s3cret-bind" not in str(staff_api.get("/api/v2/sms/connectors").json())
    connector = Connector.objects.get()
    assert connector.secret == "s3cret-bind"
    assert smpp_settings(connector).password == "s3cret-bind"
    staff_api.patch(f"/api/v2/sms/connectors/{created['id']}", {"config": SMPP | {"window": 5}}, format="json")
    assert Connector.objects.get().secret == "s3cret-bind"


def test_an_http_connector_sends_its_encrypted_password_as_the_password_placeholder(staff_api, live_http_receiver):
    config = {"url": live_http_receiver.url("/send"), "headers": {"Authorization": "Bearer {{password}}"}}
    create_connector(staff_api, name="Upstream", kind="http", config=config, password="tok-123456")
    ((stored,),) = raw_rows("campaigns_connector", "secret")
    assert "tok-123456" not in stored
    connector_for(Connector.objects.get()).send(fake_message())
    assert live_http_receiver.requests[-1].headers["authorization"] == "Bearer tok-123456"


def test_the_admin_keeps_working_with_encrypted_values(client, api, live_http_receiver):
    created = create_webhook(api(), live_http_receiver.url())
    root = get_user_model().objects.create_superuser("root@platform.example", "root@platform.example", "pw-12345!")
    client.force_login(root)
    page = client.get(f"/admin/portal/webhook/{Webhook.objects.get().pk}/change/")
    assert page.status_code == 200 and created["secret"] not in page.content.decode()
    form = {"name": "Carrier", "kind": "smpp", "config": '{"host": "h", "system_id": "s"}', "password": "adm1n-pw"}
    response = client.post("/admin/campaigns/connector/add/", form | {"is_active": "on"})
    assert response.status_code == 302
    assert "adm1n-pw" not in raw_rows("campaigns_connector", "secret")[0][0]
    assert Connector.objects.get().secret == "adm1n-pw"


def test_rotation_re_encrypts_every_column_under_the_new_first_key(settings, api, live_http_receiver):
    created = create_webhook(api(), live_http_receiver.url())
    Connector.objects.create(name="Carrier", kind="smpp", config=SMPP, secret="bind-pw")
    Connector.objects.create(name="Sim", kind="simulator")
    before = raw_rows("portal_webhook", "secret") + raw_rows("campaigns_connector", "secret")

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    report = out.getvalue()
    assert "portal.Webhook.secret: 1 re-encrypted, 0 encrypted (were plain)" in report
    assert "campaigns.Connector.secret: 1 re-encrypted, 0 encrypted (were plain)" in report
    assert "2 values now under the first key." in report
    after = raw_rows("portal_webhook", "secret") + raw_rows("campaigns_connector", "secret")
    assert after[-1] == ("",) and before[0] != after[0] and before[1] != after[1]

    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    assert Webhook.objects.get().secret == created["secret"]
    assert Connector.objects.get(name="Carrier").secret == "bind-pw"


def test_legacy_plain_values_read_and_are_encrypted_by_the_data_migrations(api, live_http_receiver):
    create_webhook(api(), live_http_receiver.url())
    Connector.objects.create(name="Carrier", kind="smpp", config=SMPP, secret="x")
    set_raw("portal_webhook", "secret", "whsec_bGVnYWN5LXBsYWluLXNlY3JldA==")
    set_raw("portal_webhook", "token", "legacy-token")
    set_raw("campaigns_connector", "secret", "legacy-pw")
    assert Webhook.objects.get().secret == "whsec_bGVnYWN5LXBsYWluLXNlY3JldA=="

    importlib.import_module("portal.migrations.0008_encrypted_secrets").encrypt_rows(apps, None)
    importlib.import_module("campaigns.migrations.0012_encrypted_connector_credentials").encrypt_rows(apps, None)
    ((secret, previous, token),) = raw_rows("portal_webhook", "secret", "previous_secret", "token")
    assert secret.startswith(PREFIX) and token.startswith(PREFIX) and previous == ""
    assert raw_rows("campaigns_connector", "secret")[0][0].startswith(PREFIX)
    webhook = Webhook.objects.get()
    assert (webhook.secret, webhook.token) == ("whsec_bGVnYWN5LXBsYWluLXNlY3JldA==", "legacy-token")
    assert Connector.objects.get().secret == "legacy-pw"

    importlib.import_module("portal.migrations.0008_encrypted_secrets").decrypt_rows(apps, None)
    assert raw_rows("portal_webhook", "secret", "token") == [("whsec_bGVnYWN5LXBsYWluLXNlY3JldA==", "legacy-token")]


def test_the_rotation_command_encrypts_legacy_plain_values_too():
    Connector.objects.create(name="Carrier", kind="smpp", config=SMPP, secret="x")
    set_raw("campaigns_connector", "secret", "legacy-pw")
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "campaigns.Connector.secret: 0 re-encrypted, 1 encrypted (were plain)" in out.getvalue()
    assert raw_rows("campaigns_connector", "secret")[0][0].startswith(PREFIX)


def test_a_missing_key_is_a_clear_error(settings):
    Connector.objects.create(name="Carrier", kind="smpp", config=SMPP, secret="bind-pw")
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B]
    with pytest.raises(SecretDecryptionError, match=r"campaigns\.Connector\.secret cannot be decrypted"):
        Connector.objects.get()
    with pytest.raises(CommandError, match=r"Connector\.secret \(pk \d+\) cannot be decrypted.*FIELD_ENCRYPTION_KEYS"):
        call_command("rotate_encryption_keys", stdout=StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [KEY_B, KEY_A]
    assert Connector.objects.get().secret == "bind-pw"


def test_a_malformed_key_is_named_by_position_without_echoing_it(settings):
    settings.FIELD_ENCRYPTION_KEYS = [KEY_A, "not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="key 2 is not a Fernet key") as caught:
        encrypt("x")
    assert "not-a-fernet-key" not in str(caught.value)
    assert [error.id for error in check_encryption_keys()] == ["portal.E101"]


def test_without_keys_one_is_derived_from_secret_key_and_deploy_checks_warn(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    stored = encrypt("pw")
    assert decrypt(stored) == "pw" and stored != encrypt("pw")
    assert [error.id for error in check_encryption_keys()] == ["portal.W101"]
    settings.SECRET_KEY = "another-secret-key"
    with pytest.raises(SecretDecryptionError, match="SECRET_KEY change"):
        decrypt(stored)


def test_encrypted_columns_refuse_lookups_other_than_isnull():
    with pytest.raises(FieldError):
        list(Connector.objects.filter(secret="bind-pw"))
    assert not Connector.objects.filter(secret__isnull=True).exists()
