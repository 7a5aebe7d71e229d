"""The Verify page: recent requests, conversion and time to verify, the account's Verify settings, paused prefixes,
and a test code to one's own phone. The rules live in `campaigns.verify`; a code is never shown."""

from datetime import timedelta

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View

from campaigns.conf import setting
from campaigns.filtersets_sending import VerificationFilterSet
from campaigns.forms_verify import CheckCodeForm, SendTestCodeForm, VerifySettingsForm, settings_snapshot
from campaigns.lookups import is_uuid
from campaigns.models import Verification, VerifyChannel, VerifyPrefixPause, VerifyStatus
from campaigns.verify import progress, stats
from campaigns.verify.limits import allowed_countries, lift_pause
from campaigns.verify.service import VerifyRequest, settings_for, start
from portal import htmx
from portal.audit import record
from portal.masking import mask_msisdn, mask_numbers_in_text
from portal.roles import MANAGE, WRITE
from portal.service_errors import ServiceError
from portal.views import AccountViewMixin

TEMPLATE = "campaigns/verify.html"
PAGE_SIZE = 50
HISTOGRAM_SPAN = timedelta(days=7)
TEST_REFERENCE = "Verify page test"
CHANNEL_LABELS = dict(VerifyChannel.choices)


def summary_row(summary: stats.Summary) -> dict:
    rate = summary.rate
    return {
        "label": summary.label,
        "sent": summary.sent,
        "verified": summary.verified,
        "rate": "—" if rate is None else f"{100 * rate:.1f}%",
        "median": stats.duration_label(summary.median),
        "p90": stats.duration_label(summary.p90),
    }


def request_row(verification: Verification, account) -> dict:
    return {"verification": verification, "to": mask_msisdn(verification.to, account)}


def panel_context(account, verification: Verification | None = None, *, new: bool = True, **extra) -> dict:
    """The test code panel: a fresh send form, and the request last sent (`new`: not a live one answered again)
    with a form to check its code."""
    panel = {"test_form": SendTestCodeForm(), **extra}
    if verification is not None:
        panel.setdefault("sent", {"to": mask_msisdn(verification.to, account), "uid": verification.uid, "new": new})
        panel.setdefault("check_form", CheckCodeForm(initial={"verification": verification.uid}))
    return panel


class VerifyPageMixin(AccountViewMixin):
    """What every Verify view renders: the whole page, or only its partial for an HTMX request."""

    def rows_context(self) -> dict:
        queryset = Verification.objects.for_account(self.account).prefetch_related("attempts")
        filterset = VerificationFilterSet(self.request.GET, queryset=queryset)
        page = Paginator(filterset.qs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        return {
            "filter": filterset,
            "page": page,
            "rows": [request_row(verification, self.account) for verification in page],
            "statuses": VerifyStatus.choices,
        }

    def page_context(self) -> dict:
        now = timezone.now()
        config = settings_for(self.account)
        daily = stats.daily(self.account, now)
        histogram = stats.histogram(self.account, now - HISTOGRAM_SPAN, now)
        return {
            **self.rows_context(),
            **panel_context(self.account),
            "summaries": [summary_row(summary) for summary in stats.summaries(self.account, now)],
            "daily": daily,
            "daily_total": sum(day["sent"] for day in daily),
            "histogram": histogram,
            "histogram_total": sum(bar["count"] for bar in histogram),
            "config": config,
            "countries": allowed_countries(config),
            "channel_labels": [
                CHANNEL_LABELS.get(item.get("channel"), item.get("channel")) for item in config.channels
            ],
            "settings_form": VerifySettingsForm(instance=config, account=self.account),
            "pauses": VerifyPrefixPause.objects.for_account(self.account).filter(until__gt=now).order_by("until"),
            "prefix_window": setting("VERIFY_PREFIX_WINDOW_MINUTES"),
            "can_send": self.can(WRITE),
            "can_manage": self.can(MANAGE),
        }

    def render_page(self, context: dict, *, partial: str | None = None, ok: bool = True):
        """`partial` alone for HTMX (200: HTMX swaps only 2xx), else the whole page (422 when not `ok`)."""
        if partial and htmx.is_partial_request(self.request):
            return htmx.render(self.request, TEMPLATE, context, partial=partial)
        return htmx.render(self.request, TEMPLATE, {**self.page_context(), **context}, status=200 if ok else 422)


class VerifyView(VerifyPageMixin, View):
    def get(self, request):
        if htmx.is_partial_request(request):
            return self.render_page(self.rows_context(), partial="verify-rows")
        return self.render_page({})


class VerifySettingsView(VerifyPageMixin, View):
    required_capability = MANAGE

    def post(self, request):
        config = settings_for(self.account)
        before = settings_snapshot(config)
        form = VerifySettingsForm(request.POST, instance=config, account=self.account)
        if not form.is_valid():
            return self.render_page({"settings_form": form}, ok=False)
        after = settings_snapshot(form.instance)
        if after == before:
            messages.info(request, "Verify settings unchanged.")
            return redirect("campaigns:verify")
        with transaction.atomic():
            config = form.save(commit=False)
            # only the form's columns: the conversion alarm task writes conversion_alarm_sent_at meanwhile
            config.save(update_fields=[*VerifySettingsForm.Meta.fields, "updated_at"])
            record(self.account, request.user, "verify.settings_changed", config, before=before, after=after)
        messages.success(request, "Verify settings saved.")
        return redirect("campaigns:verify")


class VerifyPrefixLiftView(AccountViewMixin, View):
    required_capability = MANAGE

    def post(self, request, uid):
        pause = get_object_or_404(VerifyPrefixPause.objects.for_account(self.account), uid=uid)
        before = {"prefix": pause.prefix, "until": pause.until.isoformat(), "sends": pause.sends}
        with transaction.atomic():
            record(self.account, request.user, "verify.prefix_lifted", pause, before=before)
            lift_pause(pause, timezone.now())
        messages.success(request, f"Verify sends to {pause.prefix}… resume.")
        return redirect("campaigns:verify")


class VerifyTestSendView(VerifyPageMixin, View):
    required_capability = WRITE

    def post(self, request):
        form = SendTestCodeForm(request.POST)
        if form.is_valid():
            try:
                verification, created = start(
                    self.account,
                    VerifyRequest(to=form.cleaned_data["number"], reference=TEST_REFERENCE),
                    actor=request.user,
                )
            except ServiceError as error:
                form.add_error("number" if error.field == "to" else None, mask_numbers_in_text(error, self.account))
            else:
                return self.render_page(panel_context(self.account, verification, new=created), partial="verify-test")
        return self.render_page(panel_context(self.account, test_form=form), partial="verify-test", ok=False)


class VerifyTestCheckView(VerifyPageMixin, View):
    required_capability = WRITE

    def post(self, request):
        form = CheckCodeForm(request.POST)
        uid = request.POST.get("verification", "")
        verification = Verification.objects.for_account(self.account).filter(uid=uid).first() if is_uuid(uid) else None
        if verification is None or not form.is_valid():
            if verification is None:
                form.add_error(None, "No such Verify request in this account: send a test code first.")
            panel = panel_context(self.account, verification, check_form=form)
            return self.render_page(panel, partial="verify-test", ok=False)
        outcome = progress.check(self.account, verification.uid, form.cleaned_data["code"])
        success = outcome.status == progress.SUCCESS
        detail = outcome.detail or ("the code is right: the request is verified" if success else "")
        result = {"status": outcome.status, "detail": detail, "success": success}
        panel = panel_context(self.account, outcome.verification, outcome=result)
        if outcome.status != progress.INVALID or not outcome.verification.is_live:
            panel["check_form"] = None
        return self.render_page(panel, partial="verify-test")
