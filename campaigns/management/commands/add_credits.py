from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from campaigns.models import BalanceTransaction
from campaigns.sending.billing import add_credits
from campaigns.sending.errors import SendingError
from portal.accounts import account_by_reference

MAX_DECIMAL_PLACES = 4  # Account.balance
MAX_AMOUNT = Decimal("1e10")  # Account.balance: 14 digits, 4 after the point
NOTE_LENGTH = BalanceTransaction._meta.get_field("note").max_length


def parse_amount(text: str) -> Decimal:
    """A positive amount the balance column can hold exactly, or a CommandError saying why not."""
    try:
        amount = Decimal(text.strip())
    except InvalidOperation:
        raise CommandError(f"AMOUNT {text!r} is not a number.") from None
    if not amount.is_finite() or amount <= 0:
        raise CommandError(
            f"AMOUNT must be a positive number (got {text!r}); the ledger has no correction entry to take credit back."
        )
    if -amount.as_tuple().exponent > MAX_DECIMAL_PLACES:
        raise CommandError(f"AMOUNT has more than {MAX_DECIMAL_PLACES} decimal places (the balance keeps 4).")
    if amount >= MAX_AMOUNT:
        raise CommandError(f"AMOUNT must be below {MAX_AMOUNT:,.0f}.")
    return amount


class Command(BaseCommand):
    help = (
        "Add credit to an account's balance through the billing service (one ledger row and one audit row, in the "
        "name of a platform staff user), then print the new balance."
    )

    def add_arguments(self, parser):
        parser.add_argument("account", metavar="ACCOUNT", help="The account's slug or public id.")
        parser.add_argument("amount", metavar="AMOUNT", help="A positive amount in the account's currency.")
        parser.add_argument("--note", required=True, help=f"Why (the ledger's note, {NOTE_LENGTH} characters).")
        parser.add_argument(
            "--by", required=True, metavar="EMAIL", help="The platform staff user the ledger and audit name."
        )

    def handle(self, account, amount, note, by, **options):
        target = account_by_reference(account)
        if target is None:
            raise CommandError(f"No account with slug or id {account!r}.")
        credits = parse_amount(amount)
        note = note.strip()
        if not note:
            raise CommandError("--note must say why the credit is added.")
        if len(note) > NOTE_LENGTH:
            raise CommandError(f"--note is longer than {NOTE_LENGTH} characters.")
        actor = get_user_model().objects.filter(email__iexact=by, is_active=True).first()
        if actor is None or not actor.is_staff:
            raise CommandError(f"--by {by!r} is not an active platform staff user (see create_staff_user).")
        try:
            entry = add_credits(target, credits, actor=actor, note=note)
        except SendingError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {credits} {target.currency} to {target.slug}; balance {entry.balance_after} {target.currency}."
            )
        )
