"""Webhook secrets and verification tokens encrypted at rest; existing rows are encrypted here."""

from django.db import migrations

import portal.secrets_at_rest
from portal.secrets_at_rest import decrypt, reencrypt, rewrite_columns

COLUMNS = ["secret", "previous_secret", "token"]


def encrypt_rows(apps, schema_editor):
    rewrite_columns(apps.get_model("portal", "Webhook"), COLUMNS, reencrypt)


def decrypt_rows(apps, schema_editor):
    rewrite_columns(apps.get_model("portal", "Webhook"), COLUMNS, decrypt)


class Migration(migrations.Migration):
    dependencies = [("portal", "0007_spending_caps")]

    operations = [
        migrations.AlterField(
            model_name="webhook",
            name="secret",
            field=portal.secrets_at_rest.EncryptedTextField(
                help_text="whsec_… key of the Standard Webhooks signatures.", max_length=120
            ),
        ),
        migrations.AlterField(
            model_name="webhook",
            name="previous_secret",
            field=portal.secrets_at_rest.EncryptedTextField(blank=True, max_length=120),
        ),
        migrations.AlterField(
            model_name="webhook",
            name="token",
            field=portal.secrets_at_rest.EncryptedTextField(
                blank=True, help_text="Verification token (seed: initial challenge).", max_length=200
            ),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
