"""Exports of the message log and of the delivery reports, filtered like the message log (`MessageFilterSet`).

Registered with `portal.exports` by `campaigns.apps`. Numbers are masked for `mobile_secure` accounts and the
text column is left out for `hide_msg` accounts, whatever the account's settings are when the export runs.
"""

from campaigns import dlr_codes
from campaigns.filtersets_sending import MessageFilterSet
from campaigns.models import DeliveryReport, Message
from portal.exports.registry import ExportSource, Table
from portal.exports.values import Field, phone_field, time_field, uid_field, values_table
from portal.models import Account, ExportKind

__all__ = ["DELIVERY_REPORT_EXPORT", "MESSAGE_EXPORT"]


def _messages(account: Account):
    return Message.objects.for_account(account).order_by("-created_at", "-id")


def _description(code_and_detail: tuple[str, str]) -> str:
    code, detail = code_and_detail
    return dlr_codes.describe(code) or detail


def _message_table(messages, account: Account) -> Table:
    fields = [
        uid_field("id", "uid"),
        uid_field("group_id", "group_id"),
        Field("campaign", "campaign__name"),
        phone_field("mobile", "recipient", account),
        Field("country", "country", plain=True),
        Field("sender", "sender_name"),
        *([] if account.hide_msg else [Field("body", "body")]),
        Field("parts", "parts", plain=True),
        Field("cost", "cost", plain=True),
        Field("status", "state", plain=True),
        Field("error_code", "error_code"),
        Field("description", ("error_code", "error_detail"), _description),
        Field("custom", "custom_id"),
        time_field("created_at", "created_at", account),
        time_field("sent_at", "sent_at", account),
        time_field("done_at", "done_at", account),
    ]
    return values_table(messages, fields)


def _reports_of(messages, account: Account):
    """The delivery reports received for the filtered messages, newest first."""
    return (
        DeliveryReport.objects.for_account(account)
        .filter(message__in=messages.order_by().values("pk"))
        .order_by("-created_at", "-id")
    )


def _report_table(reports, account: Account) -> Table:
    fields = [
        uid_field("id", "uid"),
        uid_field("message_id", "message__uid"),
        uid_field("group_id", "message__group_id"),
        phone_field("mobile", "message__recipient", account),
        Field("sender", "message__sender_name"),
        Field("custom", "message__custom_id"),
        Field("code", "code"),
        Field("status", "status"),
        Field("state", "state", plain=True),
        Field("applied", "applied", plain=True),
        Field("source", "source"),
        time_field("received_at", "created_at", account),
    ]
    return values_table(reports, fields)


MESSAGE_EXPORT = ExportSource(
    kind=ExportKind.MESSAGES,
    title="Message log",
    file_stem="messages",
    filterset=MessageFilterSet,
    rows=_messages,
    table=_message_table,
)
DELIVERY_REPORT_EXPORT = ExportSource(
    kind=ExportKind.DELIVERY_REPORTS,
    title="Delivery reports",
    file_stem="delivery-reports",
    filterset=MessageFilterSet,
    rows=_messages,
    table=_report_table,
    exported=_reports_of,
)
