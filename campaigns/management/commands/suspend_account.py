from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from campaigns.models import Campaign
from campaigns.sending.errors import SendingError
from campaigns.sending.lifecycle import pause_campaign, resume_campaign
from campaigns.states import CampaignState
from portal.accounts import account_by_reference, last_suspension, resume_account, suspend_account

PAUSABLE = (CampaignState.RUNNING, CampaignState.SCHEDULED)
PAUSED_KEY = "paused_campaigns"  # in the suspension's audit row: the campaigns a resume starts again


class Command(BaseCommand):
    help = (
        "Suspend an account: it becomes inactive (every API call, sends included, answers 400 'Inactive "
        "account') and its running and scheduled campaigns pause. --resume makes it active again and resumes "
        "the campaigns its last suspension paused. Both are audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("account", metavar="ACCOUNT", help="The account's slug or public id.")
        parser.add_argument("--resume", action="store_true", help="Make a suspended account active again.")
        parser.add_argument("--reason", default="", help="Why (kept in the audit trail).")

    def handle(self, account, resume, reason, **options):
        target = account_by_reference(account)
        if target is None:
            raise CommandError(f"No account with slug or id {account!r}.")
        reason = reason.strip()
        if resume:
            self.resume(target, reason)
        else:
            self.suspend(target, reason)

    def suspend(self, account, reason: str) -> None:
        if not account.is_active:
            self.stdout.write(f"{account.slug} is already suspended: nothing changed.")
            return
        with transaction.atomic():
            paused = []
            for campaign in Campaign.objects.for_account(account).filter(state__in=PAUSABLE).order_by("pk"):
                try:
                    pause_campaign(campaign)
                except SendingError:
                    continue  # it moved on (started, finished, was cancelled) since it was read
                paused.append(campaign)
            details = {PAUSED_KEY: [str(campaign.uid) for campaign in paused]}
            if not suspend_account(account, reason=reason, details=details):
                raise CommandError(f"{account.slug} was suspended meanwhile; nothing changed.")
        self.stdout.write(self.style.SUCCESS(f"{account.slug} suspended."))
        self.list_campaigns("Paused", paused)

    def resume(self, account, reason: str) -> None:
        if account.is_active:
            self.stdout.write(f"{account.slug} is active: nothing changed.")
            return
        suspension = last_suspension(account)
        uids = (suspension.after or {}).get(PAUSED_KEY, []) if suspension is not None else []
        with transaction.atomic():
            resumed = []
            campaigns = Campaign.objects.for_account(account).filter(uid__in=uids, state=CampaignState.PAUSED)
            for campaign in campaigns.order_by("pk"):
                try:
                    resume_campaign(campaign)
                except SendingError:
                    continue
                resumed.append(campaign)
            details = {"resumed_campaigns": [str(campaign.uid) for campaign in resumed]}
            if not resume_account(account, reason=reason, details=details):
                raise CommandError(f"{account.slug} was resumed meanwhile; nothing changed.")
        self.stdout.write(self.style.SUCCESS(f"{account.slug} is active again."))
        self.list_campaigns("Resumed", resumed)

    def list_campaigns(self, verb: str, campaigns: list) -> None:
        for campaign in campaigns:
            self.stdout.write(f"  {verb} campaign {campaign.name!r} ({campaign.uid}): now {campaign.state}.")
