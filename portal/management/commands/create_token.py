from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.accounts import role_in
from portal.models import Account
from portal.tokens import issue_token


class Command(BaseCommand):
    help = "Create an API token for a user of an account and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("--account", required=True, metavar="SLUG")
        parser.add_argument("--user", required=True, metavar="EMAIL")
        parser.add_argument("--name", default="CLI token")
        parser.add_argument("--read-only", action="store_true")

    def handle(self, account, user, name, read_only, **options):
        account_obj = Account.objects.filter(slug=account).first()
        if account_obj is None:
            raise CommandError(f"No account with slug {account!r}.")
        user_obj = get_user_model().objects.filter(email__iexact=user).first()
        if user_obj is None:
            raise CommandError(f"No user with e-mail {user!r}.")
        if role_in(user_obj, account_obj) is None:
            raise CommandError(f"{user} is not a member of {account_obj.slug}.")
        issued = issue_token(account_obj, user_obj, name, read_only=read_only)
        self.stdout.write(issued.raw)
