"""Scheduled sends: API sends given a future time, newest first, with Cancel until the cutoff before each."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views import View

from campaigns.conf import setting
from campaigns.filtersets_sending import ScheduledSendFilterSet
from campaigns.models import ScheduledSend, ScheduledSendState
from campaigns.sending.errors import SendingError
from campaigns.sending.lifecycle import cancel_deadline
from campaigns.sending.scheduled import cancel_scheduled_send, is_cancellable, masked_recipients
from portal import htmx
from portal.roles import WRITE
from portal.views import AccountViewMixin


class ScheduledSendListView(AccountViewMixin, View):
    def get(self, request):
        sends = ScheduledSend.objects.for_account(self.account)
        filterset = ScheduledSendFilterSet(request.GET, queryset=sends)
        page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
        now = timezone.now()
        rows = [
            {
                "send": send,
                "state": send.state_at(now),
                "recipients": masked_recipients(send, self.account),
                "cancel_until": cancel_deadline(send.send_at),
                "cancellable": is_cancellable(send, now),
            }
            for send in page
        ]
        context = {
            "filter": filterset,
            "page": page,
            "rows": rows,
            "states": ScheduledSendState.choices,
            "can_write": self.can(WRITE),
            "cutoff_minutes": setting("SMS_CANCEL_CUTOFF_MINUTES"),
        }
        return htmx.render(request, "campaigns/scheduled_list.html", context, partial="scheduled-rows")


class ScheduledSendCancelView(AccountViewMixin, View):
    required_capability = WRITE

    def post(self, request, uid):
        scheduled = get_object_or_404(ScheduledSend.objects.for_account(self.account), uid=uid)
        try:
            done = cancel_scheduled_send(scheduled, actor=request.user)
        except SendingError as error:
            messages.error(request, str(error))
        else:
            refund = f"; {done.refunded:.4f} {self.account.currency} refunded" if done.refunded else ""
            messages.success(request, f"Scheduled send cancelled: {done.cancelled} messages{refund}.")
        return redirect("campaigns:scheduled_list")
