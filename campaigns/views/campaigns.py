"""Campaign pages: the wizard (with a live review), the list, and the campaign page with live progress."""

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.formats import date_format
from django.views import View

from campaigns.filtersets_sending import CampaignFilterSet
from campaigns.forms_campaigns import CampaignForm
from campaigns.models import Campaign
from campaigns.rendering import CONTACT_FIELDS, required_variables
from campaigns.sending.errors import Reason, SendingError
from campaigns.sending.lifecycle import cancel_campaign, pause_campaign, resume_campaign, schedule_campaign
from campaigns.sending.planning import Draft, plan_campaign, sample_messages
from campaigns.sending.stats import campaign_stats
from campaigns.states import CampaignState
from campaigns.variable_mapping import missing_values
from contacts.recipients import audience_size
from portal import htmx
from portal.audit import record
from portal.masking import mask_msisdn
from portal.models import Account
from portal.roles import WRITE
from portal.views import AccountViewMixin

REVIEW_LIMIT = 50_000


def campaign_review(campaign: Campaign) -> dict:
    """Live figures of the wizard: audience size, 3 sample messages and, for audiences up to REVIEW_LIMIT,
    the exact recipients, opt-outs by reason, rejections, parts and cost."""
    size = audience_size(campaign.account, campaign.audience)
    samples = [_sample(item, campaign.account) for item in sample_messages(campaign)]
    review = {"size": size, "samples": samples}
    review["exact"] = size <= REVIEW_LIMIT
    balance = Account.objects.filter(pk=campaign.account_id).values_list("balance", flat=True).get()
    review["balance"] = balance
    if review["exact"]:
        counts = plan_campaign(campaign)
        review.update(counts.as_dict(), sufficient=counts.cost <= balance)
        review["rejected_reasons"] = Reason.labelled(counts.rejected)
    return review


def started_message(campaign: Campaign) -> str:
    """What scheduling really did: a start at the moment it was scheduled is a send now."""
    if campaign.start_at <= campaign.scheduled_at:
        return f"“{campaign.name}” is sending now."
    return f"“{campaign.name}” is scheduled for {date_format(timezone.localtime(campaign.start_at), 'Y-m-d H:i T')}."


def _schedule_summary(form) -> dict:
    """The wizard's "When" line: the refusal of the choice or the time, else what sending will do."""
    if not form.is_bound:
        return {}
    data = getattr(form, "cleaned_data", {})
    errors = [*form.errors.get("when", []), *form.errors.get("start_at", [])]
    return {"errors": errors, "when": data.get("when"), "start_at": data.get("start_at")}


def _sample(item, account) -> dict:
    recipient = mask_msisdn(item.recipient, account)
    if isinstance(item, Draft):
        return {
            "recipient": recipient,
            "body": item.body,
            "encoding": item.encoding.encoding,
            "parts": item.encoding.parts,
            "cost": item.cost,
        }
    return {
        "recipient": recipient,
        "error": Reason.label(item.reason),
        "detail": item.detail,
    }


class CampaignListView(AccountViewMixin, View):
    def get(self, request):
        campaigns = Campaign.objects.for_account(self.account).select_related("sender", "template")
        filterset = CampaignFilterSet(request.GET, queryset=campaigns)
        page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
        context = {"filter": filterset, "page": page, "states": CampaignState.choices, "can_write": self.can(WRITE)}
        return htmx.render(request, "campaigns/campaign_list.html", context, partial="campaign-rows")


class CampaignCreateView(AccountViewMixin, View):
    """The wizard: one form in steps; the review panel updates as the audience and content change."""

    required_capability = WRITE
    template_name = "campaigns/campaign_form.html"

    def context(self, form, review=None) -> dict:
        mapping = form.mapping() if form.is_bound and hasattr(form, "cleaned_data") else {}
        required = required_variables(form.body()) if mapping else []
        return {
            "form": form,
            "review": review,
            "variables": [
                {"name": name, **rule, "error": " ".join(missing_values([name], mapping) if name in required else ())}
                for name, rule in mapping.items()
            ],
            "sources": [*CONTACT_FIELDS, "attributes."],
            "schedule": _schedule_summary(form),
        }

    def get(self, request):
        form = CampaignForm(account=self.account, initial={"name": "", "message_type": "A"})
        return htmx.render(request, self.template_name, self.context(form))

    def post(self, request):
        intent = request.POST.get("intent", "")
        form = CampaignForm(request.POST, request.FILES, account=self.account, intent=intent)
        preview = intent == "preview"
        if not form.is_valid():
            status = 200 if preview else 422
            return htmx.render(request, self.template_name, self.context(form), partial="wizard-review", status=status)
        campaign = form.build(user=request.user)
        if preview:
            review = campaign_review(campaign)
            return htmx.render(request, self.template_name, self.context(form, review), partial="wizard-review")
        with transaction.atomic():
            campaign.save()
            record(self.account, request.user, "campaign.created", campaign)
        if intent == "draft":
            messages.success(request, f"Draft “{campaign.name}” saved.")
            return redirect("campaigns:campaign_detail", uid=campaign.uid)
        try:
            schedule_campaign(campaign, start_at=campaign.start_at, send_now=form.sends_now(), actor=request.user)
        except SendingError as error:
            messages.error(request, f"Saved as a draft, not scheduled: {error}")
            return redirect("campaigns:campaign_detail", uid=campaign.uid)
        messages.success(request, started_message(campaign))
        return redirect("campaigns:campaign_detail", uid=campaign.uid)


class CampaignDetailView(AccountViewMixin, View):
    """The campaign page; its progress partial is polled while the campaign runs (figures cached 3 s, so many
    viewers of a large campaign cost one count per interval)."""

    def get(self, request, uid):
        campaign = get_object_or_404(
            Campaign.objects.for_account(self.account).select_related("sender", "template"), uid=uid
        )
        stats = cache.get_or_set(f"campaign-stats:{campaign.pk}:{campaign.state}", lambda: campaign_stats(campaign), 3)
        context = {
            "campaign": campaign,
            "stats": stats,
            "rejected_reasons": Reason.labelled(campaign.rejected_by_reason or {}),
            "can_write": self.can(WRITE),
        }
        return htmx.render(request, "campaigns/campaign_detail.html", context, partial="campaign-progress")


class CampaignActionView(AccountViewMixin, View):
    """Pause, resume, cancel, or start a draft from the campaign page: `schedule` at its saved start time (refused
    when that time has passed) or `send_now`."""

    required_capability = WRITE
    TRANSITIONS = {
        "pause": (pause_campaign, "paused"),
        "resume": (resume_campaign, "resumed"),
        "cancel": (cancel_campaign, "cancelled"),
    }
    STARTS = {"schedule", "send_now"}

    def post(self, request, uid, action):
        campaign = get_object_or_404(Campaign.objects.for_account(self.account), uid=uid)
        if action not in self.TRANSITIONS and action not in self.STARTS:
            return redirect("campaigns:campaign_detail", uid=uid)
        if action == "schedule" and campaign.start_at is None:
            messages.error(request, "This draft has no start time: choose “Send now”.")
            return redirect("campaigns:campaign_detail", uid=uid)
        try:
            messages.success(request, self.perform(campaign, action, request.user))
        except SendingError as error:
            messages.error(request, str(error))
        return redirect("campaigns:campaign_detail", uid=uid)

    def perform(self, campaign: Campaign, action: str, actor) -> str:
        if action in self.STARTS:
            schedule_campaign(campaign, start_at=campaign.start_at, send_now=action == "send_now", actor=actor)
            return started_message(campaign)
        service, done = self.TRANSITIONS[action]
        service(campaign, actor=actor)
        return f"Campaign {done}."
