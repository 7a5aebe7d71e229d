import uuid
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from portal.accounts import account_by_reference
from portal.models import Account, Webhook, WebhookDelivery
from portal.webhooks import services

FAILED = WebhookDelivery.State.FAILED


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or date-time; without an offset it is read in the server's time zone."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            moment = datetime.combine(day, time.min) if day is not None else None
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--since {text!r} is not an ISO 8601 date or date-time (e.g. 2026-05-01T08:00Z).")
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def find_webhook(reference: str, account: Account | None) -> Webhook:
    """A webhook by its public id (or its number in /admin/), in `account` when one is given."""
    webhooks = Webhook.objects.for_account(account) if account is not None else Webhook.objects.all()
    if reference.isdigit():
        webhook = webhooks.filter(pk=int(reference)).first()
    else:
        try:
            webhook = webhooks.filter(uid=uuid.UUID(reference)).first()
        except ValueError:
            webhook = None
    if webhook is None:
        raise CommandError(f"No webhook {reference!r}" + (f" in {account.slug}." if account else "."))
    return webhook


class Command(BaseCommand):
    help = (
        "Queue webhook deliveries that finally failed again (same event id, a fresh retry schedule), through the "
        "same redelivery as the portal's button. They keep their place: each webhook's queue sends them before "
        "the deliveries that came after them. Webhooks that are switched off are skipped (restore them first)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--account", metavar="SLUG", help="Only this account's webhooks (slug or public id).")
        parser.add_argument("--webhook", metavar="ID", help="Only this webhook (public id, or its number in /admin/).")
        parser.add_argument("--since", metavar="ISO", help="Only deliveries created at or after this time.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be queued again; change nothing.")

    def handle(self, account, webhook, since, dry_run, **options):
        target = None
        if account is not None:
            target = account_by_reference(account)
            if target is None:
                raise CommandError(f"No account with slug or id {account!r}.")
        moment = parse_since(since) if since else None
        failed = WebhookDelivery.objects.filter(state=FAILED)
        if target is not None:
            failed = failed.for_account(target)
        if webhook is not None:
            hook = find_webhook(webhook, target)
            if not hook.is_active:
                raise CommandError(
                    f"Webhook {hook.uid} is switched off ({hook.get_disabled_reason_display()}): restore it first."
                )
            failed = failed.filter(webhook=hook)
        if moment is not None:
            failed = failed.filter(created_at__gte=moment)
        counts = dict(failed.order_by().values("webhook_id").annotate(n=Count("id")).values_list("webhook_id", "n"))
        hooks = Webhook.objects.select_related("account").filter(pk__in=counts).order_by("pk")
        queued = webhooks = 0
        for hook in hooks:
            label = f"{hook.name} ({hook.uid}, {hook.account.slug})"
            if not hook.is_active:
                reason = hook.get_disabled_reason_display()
                self.stdout.write(f"  Skipped {label}: switched off ({reason}), {counts[hook.pk]} failed; restore it.")
                continue
            if dry_run:
                count = counts[hook.pk]
            else:
                try:
                    count = self.requeue(hook, failed.filter(webhook=hook), moment)
                except services.WebhookInactive:
                    self.stdout.write(f"  Skipped {label}: switched off meanwhile.")
                    continue
            held = " (held until its challenge handshake succeeds)" if hook.is_held else ""
            self.stdout.write(f"  {label}: {count}{held}")
            queued, webhooks = queued + count, webhooks + 1
        verb = "Would queue" if dry_run else "Queued"
        self.stdout.write(self.style.SUCCESS(f"{verb} {queued} failed deliveries of {webhooks} webhooks again."))

    def requeue(self, hook: Webhook, failed, moment: datetime | None) -> int:
        """Every failed delivery of the webhook in one move, or (with --since) each chosen one, oldest first."""
        if moment is None:
            return services.redeliver_failed(hook)
        with transaction.atomic():
            items = list(failed.select_related("webhook", "account").order_by("id"))
            for item in items:
                services.redeliver(item)
        return len(items)
