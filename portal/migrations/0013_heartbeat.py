"""Heartbeats: the row the beat heartbeat task writes and /readyz checks (portal.ops)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0012_account_cta_short_domain_whitelisted"),
    ]

    operations = [
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=40, unique=True)),
                ("beat_at", models.DateTimeField()),
            ],
            options={
                "ordering": ["name"],
            },
        ),
    ]
