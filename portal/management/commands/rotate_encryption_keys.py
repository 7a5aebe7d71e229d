"""`manage.py rotate_encryption_keys`: every encrypted column re-encrypted under the first key."""

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from portal.secrets_at_rest import encrypted_fields, key_ring, reencrypt, rewrite_columns


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret stored at rest with the first key of FIELD_ENCRYPTION_KEYS (plain legacy values "
        "are encrypted too); run it after putting a new key first, before dropping the old one."
    )

    def handle(self, **options):
        try:
            self.rotate()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from None

    def rotate(self) -> None:
        """Model by model, each batch in its own transaction: a failure leaves the finished batches rotated."""
        key_ring()
        total = 0
        for model, names in encrypted_fields(apps.get_models()):
            for name, counts in rewrite_columns(model, names, reencrypt).items():
                total += counts.total()
                self.stdout.write(
                    f"{model._meta.label}.{name}: {counts['rotated']} re-encrypted, "
                    f"{counts['encrypted']} encrypted (were plain)"
                )
        self.stdout.write(self.style.SUCCESS(f"{total} values now under the first key."))
