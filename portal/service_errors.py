"""The one error type services raise for a request they refuse, and what kind of refusal it is.

Services (no HTTP in them) raise `ServiceError(message, field=…, code=…)`; the API's exception handler turns it
into the envelope (422 for a field, 403 for `forbidden`/`insufficient_funds`, 429 for `rate_limited`, 409
otherwise) and pages show `str(error)`, so every surface words a refusal the same way.
"""


class ServiceError(Exception):
    """A request the service refuses; `field` names the input at fault, `code` the kind of refusal."""

    FORBIDDEN = "forbidden"
    INVALID = "invalid"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"

    def __init__(self, message: str, *, field: str | None = None, code: str = CONFLICT):
        super().__init__(message)
        self.field = field
        self.code = code

    @property
    def message(self) -> str:
        return str(self)
