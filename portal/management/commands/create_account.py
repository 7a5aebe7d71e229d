import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from portal.accounts import add_member, create_account
from portal.roles import Role


class Command(BaseCommand):
    help = "Create an account with an admin user (prints a generated password when the user is new)."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--admin", required=True, metavar="EMAIL")
        parser.add_argument("--country", default="IN", help="Default country for phone numbers (ISO alpha-2).")
        parser.add_argument("--time-zone", default="Asia/Kolkata")
        parser.add_argument("--slug")

    @transaction.atomic
    def handle(self, name, admin, country, time_zone, slug, **options):
        try:
            account = create_account(name, slug=slug, default_country=country.upper(), time_zone=time_zone)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        user, password = ensure_user(admin)
        add_member(account, user, Role.ADMIN)
        self.stdout.write(self.style.SUCCESS(f"Account {account.name} ({account.slug}) created; {admin} is admin."))
        if password:
            self.stdout.write(f"Password for {admin}: {password}")


def ensure_user(email: str):
    """The user with this e-mail, created with a random password when missing."""
    user_model = get_user_model()
    user = user_model.objects.filter(email__iexact=email).first()
    if user is not None:
        return user, None
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_user(username=email, email=email, password=password)
    return user, password
