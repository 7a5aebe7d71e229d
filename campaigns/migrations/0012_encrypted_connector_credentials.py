"""Connector passwords encrypted at rest; existing rows are encrypted here."""

from django.db import migrations

import portal.secrets_at_rest
from portal.secrets_at_rest import decrypt, reencrypt, rewrite_columns


def encrypt_rows(apps, schema_editor):
    rewrite_columns(apps.get_model("campaigns", "Connector"), ["secret"], reencrypt)


def decrypt_rows(apps, schema_editor):
    rewrite_columns(apps.get_model("campaigns", "Connector"), ["secret"], decrypt)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0011_message_token_caps")]

    operations = [
        migrations.AlterField(
            model_name="connector",
            name="secret",
            field=portal.secrets_at_rest.EncryptedTextField(
                blank=True,
                help_text="The upstream password (SMPP bind, HTTP {{password}}): write-only, encrypted at rest.",
                max_length=200,
            ),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
