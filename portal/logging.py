"""Log filter that removes credential query parameters (`access_token`, …) from every log line."""

import logging

from portal.credentials import CREDENTIAL_IN_TEXT, redact


class RedactAccessTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if CREDENTIAL_IN_TEXT.search(message):
            record.msg = redact(message)
            record.args = ()
        return True
