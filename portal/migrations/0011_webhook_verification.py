"""Webhook verification (seed: the challenge handshake) and the Bearer option. Webhooks that existed before need no
handshake (verification_required starts false) until their validation key or URL changes."""

from django.db import migrations, models

import portal.secrets_at_rest


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0010_exports"),
    ]

    operations = [
        migrations.AddField(
            model_name="webhook",
            name="send_bearer",
            field=models.BooleanField(
                default=False,
                help_text="Also send the secret as Authorization: Bearer <secret> (seed), beside the signature.",
            ),
        ),
        migrations.AddField(
            model_name="webhook",
            name="verification_checked_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="webhook",
            name="verification_error",
            field=models.CharField(blank=True, editable=False, max_length=500),
        ),
        migrations.AddField(
            model_name="webhook",
            name="verification_required",
            field=models.BooleanField(
                default=False, editable=False, help_text="A validation key is set: deliveries wait for a handshake."
            ),
        ),
        migrations.AddField(
            model_name="webhook",
            name="verified_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="webhook",
            name="token",
            field=portal.secrets_at_rest.EncryptedTextField(
                blank=True,
                help_text="Validation key of the challenge handshake (seed: Webhook Verification).",
                max_length=200,
            ),
        ),
    ]
