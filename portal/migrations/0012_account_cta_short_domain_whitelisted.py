"""India: an account marks its smart-link short domain as whitelisted on the DLT portal (the template rules warn
about templates with links until it does)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("portal", "0011_webhook_verification"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="cta_short_domain_whitelisted",
            field=models.BooleanField(
                default=False,
                help_text="India: the smart-link short domain is whitelisted on the DLT portal (templates with links "
                "stop warning).",
                verbose_name="Short-link domain whitelisted as a CTA",
            ),
        ),
    ]
