import getpass
import os
import secrets
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q


class Command(BaseCommand):
    help = (
        "Create a platform staff user (is_staff: may open /admin/, add credits and act as an admin in every "
        "account), or promote an existing one. --superuser also grants every permission in /admin/ (a staff user "
        "without it sees only the models its permissions allow). The password of a new user comes from "
        "--password-from-env, a prompt, or with --no-input is generated and printed once; an existing user keeps "
        "theirs unless --password-from-env gives one."
    )
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("email", metavar="EMAIL")
        parser.add_argument("--superuser", action="store_true", help="Also make the user a superuser.")
        source = parser.add_mutually_exclusive_group()
        source.add_argument(
            "--password-from-env", metavar="VAR", help="Read the password from this environment variable."
        )
        source.add_argument(
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Never prompt: a new user gets a generated password, printed once.",
        )

    def handle(self, email, superuser, password_from_env, interactive, **options):
        email = email.strip()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an e-mail address.") from None
        user_model = get_user_model()
        user = user_model.objects.filter(Q(email__iexact=email) | Q(username__iexact=email)).order_by("pk").first()
        created = user is None
        if created:
            user = user_model(username=email.lower(), email=email.lower())
        elif not user.is_active:
            raise CommandError(f"{user.email} is deactivated; reactivate the user in /admin/ first.")
        password, generated = self.password_for(user, created, password_from_env, interactive, options)
        with transaction.atomic():
            user.is_staff = True
            user.is_superuser = user.is_superuser or superuser
            if password is not None:
                user.set_password(password)
            user.save()
        role = "superuser" if user.is_superuser else "staff user"
        action = "Created" if created else "Updated"
        self.stdout.write(self.style.SUCCESS(f"{action} {role} {user.email}."))
        if generated:
            self.stdout.write(f"Password for {user.email} (shown once): {password}")
        elif password is None:
            self.stdout.write("Password unchanged.")

    def password_for(self, user, created: bool, variable, interactive: bool, options) -> tuple[str | None, bool]:
        """(password to set or None to keep the current one, whether it was generated), validated."""
        if variable:
            password = os.environ.get(variable, "")
            if not password:
                raise CommandError(f"The environment variable {variable} is not set or empty.")
        elif not created and user.has_usable_password():
            return None, False
        elif not interactive:
            return secrets.token_urlsafe(18), True
        else:
            password = self.prompt(options.get("stdin", sys.stdin))
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError("Password refused: " + " ".join(error.messages)) from None
        return password, False

    def prompt(self, stdin) -> str:
        if not hasattr(stdin, "isatty") or not stdin.isatty():
            raise CommandError("No terminal to ask for a password: use --password-from-env VAR or --no-input.")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        if not password:
            raise CommandError("The password is empty.")
        return password
