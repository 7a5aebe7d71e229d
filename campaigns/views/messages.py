"""The message log: every message with its state and error, filtered; honours hide_msg and mobile_secure."""

from django.core.paginator import Paginator
from django.views import View

from campaigns import dlr_codes
from campaigns.filtersets_sending import MessageFilterSet
from campaigns.models import Campaign, Message
from campaigns.states import MessageState
from portal import htmx
from portal.masking import mask_msisdn
from portal.views import AccountViewMixin


class MessageListView(AccountViewMixin, View):
    def get(self, request):
        messages = Message.objects.for_account(self.account).select_related("campaign").order_by("-created_at", "-id")
        filterset = MessageFilterSet(request.GET, queryset=messages)
        page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
        rows = [
            {
                "message": message,
                "mobile": mask_msisdn(message.recipient, self.account),
                "body": "" if self.account.hide_msg else message.body,
                "description": dlr_codes.describe(message.error_code) or message.error_detail,
            }
            for message in page
        ]
        context = {
            "filter": filterset,
            "page": page,
            "rows": rows,
            "states": MessageState.choices,
            "campaigns": Campaign.objects.for_account(self.account).only("uid", "name")[:200],
            "hide_msg": self.account.hide_msg,
        }
        return htmx.render(request, "campaigns/campaign_messages.html", context, partial="message-rows")
