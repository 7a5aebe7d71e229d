"""`{% disabled_webhooks as items %}`: webhooks the system switched off, for the account admins' banner."""

from django import template

from portal.models import Webhook
from portal.roles import Role

register = template.Library()
BANNER_REASONS = (Webhook.DisabledReason.GONE, Webhook.DisabledReason.FAILING)


@register.simple_tag(takes_context=True)
def disabled_webhooks(context) -> list[Webhook]:
    account, role = context.get("current_account"), context.get("current_role")
    if account is None or role != Role.ADMIN:
        return []
    return list(
        Webhook.objects.filter(account=account, status=Webhook.Status.INACTIVE, disabled_reason__in=BANNER_REASONS)[:5]
    )
