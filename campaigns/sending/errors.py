"""Why a send is refused (`SendingError`) and why a recipient gets no message (`Reason`), worded once.

The API turns a `SendingError` into its envelope through `portal.api.exceptions` (a `ServiceError`); pages show
`str(error)`; `Reason.label` is the text of a refusal on every page, answer and export.
"""

from portal.service_errors import ServiceError

INSUFFICIENT_FUNDS = "6 Insufficient funds: the account balance is too low to send the remaining messages."


class SendingError(ServiceError):
    """A send or transition that is not allowed now; `field` names the input at fault when there is one."""


class InsufficientFunds(SendingError):
    def __init__(self, message: str = "Insufficient funds"):
        super().__init__(message, code="insufficient_funds")


class SpendingCapReached(SendingError):
    """A send that would go past a daily or monthly cap of the account or of its API token (not a field error:
    the API answers it with the cap's message, apart from insufficient funds)."""

    def __init__(self, message: str):
        super().__init__(message, code="spending_cap")


class Reason:
    """Why a recipient gets no message (stable codes; the DLR code where the seed has one)."""

    INVALID_NUMBER = "invalid_number"
    SUPPRESSED = "suppressed"
    NO_TEMPLATE_MATCH = "no_template_match"
    VARIABLE_TOO_LONG = "variable_too_long"
    VARIABLE_EMPTY = "variable_empty"
    TOO_MANY_PARTS = "too_many_parts"
    NO_PRICE = "country_not_allowed"
    DUPLICATE = "duplicate"
    FILTER_FAILED = "filter_failed"

    DESCRIPTIONS = {
        INVALID_NUMBER: "Invalid number",
        SUPPRESSED: "Opted out",
        NO_TEMPLATE_MATCH: "452 TEMPLATE-NOT-FOUND: the text matches no approved template of the sender",
        VARIABLE_TOO_LONG: "783 DLT-TM-VAR-EXECEED: a variable value is longer than allowed",
        VARIABLE_EMPTY: "A template variable would be empty (no value and no default)",
        TOO_MANY_PARTS: "The message needs more parts than max_units allows",
        NO_PRICE: "459 NOTALLOWED: no price for the destination country",
        DUPLICATE: "Duplicate number in this send",
        FILTER_FAILED: "A template filter cannot take the variable's value (e.g. not a number or not a date)",
    }
    CODES = {NO_TEMPLATE_MATCH: "452", VARIABLE_TOO_LONG: "783", NO_PRICE: "459", SUPPRESSED: "456"}

    @classmethod
    def label(cls, reason: str) -> str:
        """The human text of a reason code (the code itself when unknown)."""
        return cls.DESCRIPTIONS.get(reason, reason)

    @classmethod
    def labelled(cls, counts: dict[str, int]) -> dict[str, int]:
        """Counts by reason code → counts by human text (the wizard's review and the campaign page)."""
        return {cls.label(reason): count for reason, count in counts.items()}

    @classmethod
    def refusal(cls, number: str, reason: str, detail: str = "") -> dict:
        """One refused recipient as the API answers it: number, reason code, seed code, message."""
        description = cls.label(reason)
        return {
            "number": number,
            "reason": reason,
            "code": cls.CODES.get(reason, ""),
            "message": f"{description}: {detail}" if detail else description,
        }
