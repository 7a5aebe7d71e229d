"""System checks: the SSRF allow-list is for development and tests only."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from portal.webhooks import conf


@register(Tags.security, deploy=False)
def allow_list_only_in_debug(app_configs=None, **kwargs) -> list[Error]:
    try:
        policy = conf.policy()
    except ValueError as exc:
        return [Error(f"WEBHOOK_ALLOWED_CIDRS/WEBHOOK_ALLOWED_PORTS are malformed: {exc}", id="portal.E101")]
    if policy.enabled and not settings.DEBUG:
        return [
            Error(
                "WEBHOOK_ALLOWED_CIDRS lets webhooks reach non-public addresses, but DEBUG is off.",
                hint="Unset WEBHOOK_ALLOWED_CIDRS in production; it exists for development (with DEBUG=1, which "
                "`make run` sets unless DEBUG is given) and tests.",
                id="portal.E100",
            )
        ]
    return []
