"""India: smart links are calls to action (CTAs), and since October 2024 a CTA's domain must be whitelisted on the
DLT portal. A template that carries a link — `{{smart_link}}`, a fixed URL, or a variable named for a link — gets a
warning while the account has not marked its short-link domain whitelisted (Settings → Account).

Pure functions: `template_rules.validate_template` turns each `RawFinding` into its `Finding` (this module cannot
import the rule engine that calls it). `short_domain_unlisted` tells the engine's account facts whether the rule
applies (an Indian sender, or no sender in an account whose default country is India).
"""

import re
from typing import NamedTuple

from campaigns.links import SMART_LINK_VARIABLE, find_urls
from campaigns.variables import ParsedBody

SHORT_DOMAIN_RULE = "short_domain_not_whitelisted"
_LINK_NAME = re.compile(r"url|link", re.IGNORECASE)


class RawFinding(NamedTuple):
    """A finding's code, severity, message and span, in `template_rules.Finding`'s order."""

    code: str
    severity: str
    message: str
    start: int
    end: int


def first_link(parsed: ParsedBody, masked: str) -> tuple[int, int] | None:
    """The span of the template's first link: `{{smart_link}}`, a fixed URL or a variable named for a link."""
    spans = [(v.start, v.end) for v in parsed.variables if v.name == SMART_LINK_VARIABLE or _LINK_NAME.search(v.name)]
    spans += find_urls(masked)
    return min(spans) if spans else None


def check_short_link_domain(parsed: ParsedBody, masked: str, needs_whitelisting: bool) -> list[RawFinding]:
    """The India CTA warning for a template with a link, while the short domain is not marked whitelisted.
    `masked` is the body with its variables blanked out (no URL is found inside a variable)."""
    if not needs_whitelisting:
        return []
    span = first_link(parsed, masked)
    if span is None:
        return []
    message = (
        "This template carries a link: in India the short-link domain must be whitelisted as a CTA on the DLT "
        "portal, or operators drop the messages. Once it is, tick “Short-link domain whitelisted” in "
        "Settings → Account."
    )
    return [RawFinding(SHORT_DOMAIN_RULE, "warning", message, *span)]


def short_domain_unlisted(account, sender) -> bool:
    """Whether the warning applies: India (the sender's country, else the account's) and not marked whitelisted."""
    country = (getattr(sender, "country_code", "") or account.default_country or "").upper()
    return country == "IN" and not account.cta_short_domain_whitelisted
