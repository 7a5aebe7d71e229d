import os
from importlib import import_module

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.accounts import add_member, create_account
from portal.models import Account
from portal.roles import Role

DEMO_SLUG = "demo"
DEMO_APPS = ["portal", "contacts", "campaigns"]
DEMO_USERS = [
    ("admin@demo.example", Role.ADMIN),
    ("marketer@demo.example", Role.MARKETER),
    ("compliance@demo.example", Role.COMPLIANCE),
    ("viewer@demo.example", Role.VIEWER),
]
DEMO_PASSWORD = "demo-password-1"


class Command(BaseCommand):
    help = "On first run, create the demo account, its users (one per role) and each app's demo data."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Load even when the demo account exists.")

    def handle(self, force, **options):
        if Account.objects.filter(slug=DEMO_SLUG).exists() and not force:
            self.stdout.write("Demo data already loaded.")
            return
        with transaction.atomic():
            account = Account.objects.filter(slug=DEMO_SLUG).first() or create_account(
                "Demo Retail",
                slug=DEMO_SLUG,
                default_country="IN",
                time_zone="Asia/Kolkata",
                brand_names=["DemoMart"],
                balance=100,
            )
            users = {role: self.demo_user(email, account, role) for email, role in DEMO_USERS}
            self.second_account(users[Role.ADMIN])
        for app in DEMO_APPS:
            loader = demo_loader(app)
            if loader is not None:
                loader(account, users[Role.ADMIN])
        url = f"http://{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}/"
        self.stdout.write(self.style.SUCCESS(f"Demo account ready. Log in at {url} with:"))
        for email, role in DEMO_USERS:
            self.stdout.write(f"  {role:<11} {email} / {DEMO_PASSWORD}")

    @staticmethod
    def demo_user(email, account, role):
        user_model = get_user_model()
        user = user_model.objects.filter(username=email).first()
        if user is None:
            user = user_model.objects.create_user(username=email, email=email, password=DEMO_PASSWORD)
        add_member(account, user, role)
        return user

    @staticmethod
    def second_account(admin):
        """A second account so that the account switcher has somewhere to go."""
        other = Account.objects.filter(slug="demo-bank").first() or create_account(
            "Demo Bank", slug="demo-bank", default_country="GB", time_zone="Europe/London", entity_type="bank"
        )
        add_member(other, admin, Role.ADMIN)


def demo_loader(app: str):
    try:
        module = import_module(f"{app}.demo")
    except ModuleNotFoundError as exc:
        if exc.name != f"{app}.demo":
            raise
        return None
    return module.load
