"""Log filter that removes `access_token` values from every log line."""

import logging
import re

TOKEN_IN_QUERY = re.compile(r"(access_token=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    return TOKEN_IN_QUERY.sub(r"\1[REDACTED]", text)


class RedactAccessTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "access_token" in message.lower():
            record.msg = redact(message)
            record.args = ()
        return True
