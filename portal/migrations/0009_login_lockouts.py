"""Login lock-outs (portal.brute_force)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0008_encrypted_secrets"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LoginLockout",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "failures",
                    models.PositiveIntegerField(default=0, help_text="Failed passwords in the current window."),
                ),
                (
                    "window_started_at",
                    models.DateTimeField(blank=True, help_text="First failure of the current window.", null=True),
                ),
                ("last_failure_at", models.DateTimeField(blank=True, null=True)),
                (
                    "last_address",
                    models.CharField(blank=True, help_text="Client address of the last failure.", max_length=64),
                ),
                (
                    "locked_until",
                    models.DateTimeField(
                        blank=True,
                        db_index=True,
                        help_text="Logins are refused until then; empty: not locked.",
                        null=True,
                    ),
                ),
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="login_lockout",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={"verbose_name": "login lock-out", "ordering": ["-last_failure_at", "-id"]},
        ),
    ]
