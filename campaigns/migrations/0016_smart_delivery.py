"""Smart Delivery: a campaign's test batch options (size or test numbers, wait, rejection threshold) and outcome."""

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0015_smart_links"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaign",
            name="smart_delivery",
            field=models.BooleanField(
                default=False,
                help_text="Send to a test batch first; release the rest only when few of it got DLT rejections.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_test_size",
            field=models.PositiveIntegerField(
                default=10,
                help_text="Recipients of the test batch, picked at random (when no test numbers are given).",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(10000),
                ],
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_test_numbers",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="The test batch: these numbers (E.164, recipients of the campaign too) instead of random ones.",
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_wait_minutes",
            field=models.PositiveIntegerField(
                default=15,
                help_text="Minutes after the test batch has left before it is judged.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(1440),
                ],
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_max_reject_percent",
            field=models.PositiveSmallIntegerField(
                default=0,
                help_text="The rest is cancelled when more than this % of the test batch got DLT rejections.",
                validators=[django.core.validators.MaxValueValidator(100)],
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_state",
            field=models.CharField(
                blank=True,
                choices=[
                    ("pending", "Test batch sent, waiting"),
                    ("passed", "Passed: the rest released"),
                    ("failed", "Failed: the rest cancelled"),
                ],
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_checked_at",
            field=models.DateTimeField(blank=True, help_text="When the test batch was judged.", null=True),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_result",
            field=models.JSONField(blank=True, default=dict, help_text="The test batch's counts and the verdict."),
        ),
        migrations.AddField(
            model_name="campaign",
            name="smart_test_ids",
            field=models.JSONField(blank=True, default=list, editable=False, help_text="Test batch message ids."),
        ),
        migrations.AddIndex(
            model_name="campaign",
            index=models.Index(
                condition=models.Q(("smart_delivery", True), ("smart_state__in", ["", "pending"])),
                fields=["smart_state"],
                name="campaign_smart_open",
            ),
        ),
    ]
