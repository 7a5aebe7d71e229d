"""Smart links: SmartLink (a send's shortened URL), ShortLink (one recipient's code, the redirect's key), LinkVisit;
the campaign's track_links and smart_link_url."""

import uuid

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0014_scheduled_sends"),
        ("portal", "0009_login_lockouts"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="track_links",
            field=models.BooleanField(default=False, help_text="Shorten every URL of the text per recipient."),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_link_url",
            field=models.URLField(blank=True, help_text="Where {{smart_link}} leads.", max_length=2000),
        ),
        migrations.CreateModel(
            name="SmartLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="public id")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "group_id",
                    models.UUIDField(help_text="The API send, or the campaign's public id, the link belongs to."),
                ),
                ("position", models.PositiveSmallIntegerField(help_text="Which shortened URL of the text (0: the first).")),
                (
                    "target_url",
                    models.TextField(help_text="Where its short URLs lead (the first recipient's, when they differ)."),
                ),
                ("sender_name", models.CharField(blank=True, max_length=15)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="portal.account"
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="smart_links",
                        to="campaigns.campaign",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "constraints": [
                    models.UniqueConstraint(fields=("group_id", "position"), name="unique_smart_link_position")
                ],
            },
        ),
        migrations.CreateModel(
            name="ShortLink",
            fields=[
                ("code", models.CharField(max_length=16, primary_key=True, serialize=False)),
                ("message_uid", models.UUIDField(help_text="The message that carries this short URL.")),
                ("recipient", models.CharField(max_length=16)),
                ("target_url", models.TextField(blank=True, help_text="Empty: the smart link's target.")),
                (
                    "link",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="short_links",
                        to="campaigns.smartlink",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="LinkVisit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("uid", models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name="public id")),
                ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("recipient", models.CharField(max_length=16)),
                ("user_agent", models.CharField(blank=True, max_length=500)),
                ("browser", models.CharField(blank=True, max_length=60)),
                ("browser_version", models.CharField(blank=True, max_length=30)),
                ("platform", models.CharField(blank=True, max_length=60)),
                ("platform_version", models.CharField(blank=True, max_length=30)),
                ("device_type", models.CharField(blank=True, max_length=20)),
                ("device_brand", models.CharField(blank=True, max_length=60)),
                ("device_model", models.CharField(blank=True, max_length=60)),
                ("country", models.CharField(blank=True, max_length=80)),
                ("country_code", models.CharField(blank=True, max_length=2)),
                ("region", models.CharField(blank=True, max_length=80)),
                ("city", models.CharField(blank=True, max_length=80)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="portal.account"
                    ),
                ),
                (
                    "link",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="visits",
                        to="campaigns.smartlink",
                    ),
                ),
                (
                    "short_link",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="visits",
                        to="campaigns.shortlink",
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["link", "-created_at"], name="link_visit_recent"),
                    models.Index(fields=["short_link"], name="link_visit_short_link"),
                ],
            },
        ),
    ]
