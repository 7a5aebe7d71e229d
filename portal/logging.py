"""Log filter that removes credential query parameters (`access_token`, …) from every log line; the JSON
formatter of production logs."""

import json
import logging
from datetime import UTC, datetime

from portal.credentials import CREDENTIAL_IN_TEXT, redact
from portal.request_context import account_var, request_id_var


class RedactAccessTokenFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if CREDENTIAL_IN_TEXT.search(message):
            record.msg = redact(message)
            record.args = ()
        return True


# LogRecord attributes that are not `extra` fields of the call
STANDARD_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line (LOG_FORMAT=json): time, level, logger, message, the request id and account of the
    request being served (portal.request_context), the call's `extra` fields and the exception, if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "account": account_var.get(),
            "process": record.process,
        }
        extra = {key: value for key, value in vars(record).items() if key not in STANDARD_RECORD_FIELDS}
        entry.update({key: value for key, value in extra.items() if key not in entry})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
