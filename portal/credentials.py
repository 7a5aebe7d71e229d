"""Query parameters that carry credentials: the one list, and the URL without them.

No link in a response body, no redirect and no log line repeats a credential the caller put in the query."""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

CREDENTIAL_PARAMETERS = ("access_token", "token", "api_key")
CREDENTIAL_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9_])((?:" + "|".join(CREDENTIAL_PARAMETERS) + r")=)[^&\s\"']+", re.IGNORECASE
)


def is_credential(name: str) -> bool:
    return name.lower() in CREDENTIAL_PARAMETERS


def without_credentials(url: str) -> str:
    """The URL with every credential parameter removed from its query; everything else kept in order."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if not is_credential(key)]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def redact(text: str) -> str:
    """Text (a log line) with the value of every `credential=` replaced by [REDACTED]."""
    return CREDENTIAL_IN_TEXT.sub(r"\1[REDACTED]", text)
