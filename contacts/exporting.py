"""Exports of the contact list and of the inbound messages, filtered like their lists (`ContactFilterSet`,
`InboundMessageFilterSet`).

Registered with `portal.exports` by `contacts.apps`; the writers and the formula-injection policy are
`portal.exports.writers`. Numbers are masked for `mobile_secure` accounts, and inbound texts are left out for
`hide_msg` accounts, whatever the account's settings are when the export runs.
"""

from __future__ import annotations

import json

from contacts.filtersets import ContactFilterSet
from contacts.filtersets_unsubscribers import InboundMessageFilterSet
from contacts.models import Contact, InboundMessage
from portal.exports.registry import ExportSource, Table
from portal.exports.values import Field, local_times, phone_field, time_field, uid_field, values_table
from portal.exports.writers import ExportColumn
from portal.masking import mask_msisdn
from portal.models import Account, ExportKind

__all__ = ["CONTACT_EXPORT", "INBOUND_EXPORT", "contact_export_columns"]

CONTACT_CHUNK_ROWS = 2_000  # contacts are read with their tags and groups (two prefetch queries per chunk)


def contact_export_columns(account: Account) -> list[ExportColumn]:
    """Columns of a contact export; phone numbers are masked for accounts with `mobile_secure`."""
    local_time = local_times(account)
    return [
        ExportColumn("id", lambda contact: str(contact.uid), plain=True),
        ExportColumn("identity", lambda contact: contact.identity),
        ExportColumn("phone", lambda contact: mask_msisdn(contact.phone, account), phone=True),
        ExportColumn("country", lambda contact: contact.country),
        ExportColumn("number_type", lambda contact: contact.number_type),
        ExportColumn("email", lambda contact: contact.email),
        ExportColumn("first_name", lambda contact: contact.first_name),
        ExportColumn("last_name", lambda contact: contact.last_name),
        ExportColumn("gender", lambda contact: contact.gender),
        ExportColumn("birth_date", lambda contact: contact.birth_date, plain=True),
        ExportColumn("postal_code", lambda contact: contact.postal_code),
        ExportColumn("company", lambda contact: contact.company),
        ExportColumn("tags", lambda contact: ", ".join(sorted(tag.name for tag in contact.tags.all()))),
        ExportColumn("groups", lambda contact: ", ".join(sorted(group.name for group in contact.groups.all()))),
        ExportColumn("attributes", lambda contact: json.dumps(contact.attributes, ensure_ascii=False)),
        ExportColumn("created_at", lambda contact: local_time(str(contact.created_at)), plain=True),
    ]


def _contacts(account: Account):
    return Contact.objects.filter(account=account).order_by("-created_at", "-id")


def _contact_table(contacts, account: Account) -> Table:
    rows = contacts.prefetch_related("tags", "groups").iterator(chunk_size=CONTACT_CHUNK_ROWS)
    return Table(contact_export_columns(account), rows)


def _inbound(account: Account):
    return InboundMessage.objects.for_account(account).order_by("-received_at", "-id")


def _inbound_table(messages, account: Account) -> Table:
    fields = [
        uid_field("id", "uid"),
        time_field("received_at", "received_at", account),
        phone_field("from", "from_number", account),
        Field("to", "to"),
        *([] if account.hide_msg else [Field("text", "text")]),
        Field("parts", "parts", plain=True),
        Field("keyword", "keyword"),
        Field("action", "action", plain=True),
        Field("reply_status", "reply_status", plain=True),
        Field("provider_id", "provider_id"),
    ]
    return values_table(messages, fields)


CONTACT_EXPORT = ExportSource(
    kind=ExportKind.CONTACTS,
    title="Contacts",
    file_stem="contacts",
    filterset=ContactFilterSet,
    rows=_contacts,
    table=_contact_table,
)
INBOUND_EXPORT = ExportSource(
    kind=ExportKind.INBOUND,
    title="Inbound messages",
    file_stem="inbound",
    filterset=InboundMessageFilterSet,
    rows=_inbound,
    table=_inbound_table,
)
