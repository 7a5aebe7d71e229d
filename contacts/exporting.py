"""Exports of the contact list and of the inbound messages, filtered like their lists (`ContactFilterSet`,
`InboundMessageFilterSet`).

Registered with `portal.exports` by `contacts.apps`; the writers and the formula-injection policy are
`portal.exports.writers`. Numbers are masked for `mobile_secure` accounts, and inbound texts are left out for
`hide_msg` accounts, whatever the account's settings are when the export runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice
from operator import itemgetter

from contacts.filtersets import ContactFilterSet
from contacts.filtersets_unsubscribers import InboundMessageFilterSet
from contacts.models import Contact, ContactTag, GroupMember, InboundMessage
from portal.exports.registry import ExportSource, Table
from portal.exports.values import Field, phone_field, time_field, uid_field, value_columns, values_table
from portal.exports.writers import ExportColumn
from portal.models import Account, ExportKind

__all__ = ["CONTACT_EXPORT", "INBOUND_EXPORT"]

NAMES_CHUNK_ROWS = 2_000  # contacts whose tag and group names are read together (one query each)


def _contacts(account: Account):
    return Contact.objects.filter(account=account).order_by("-created_at", "-id")


def _contact_table(contacts, account: Account) -> Table:
    """Contacts as `values_list` tuples, each followed by its tag names and group names (comma lists), read for
    NAMES_CHUNK_ROWS contacts at a time: model instances with prefetched tags and groups took 15 s for 42,000."""
    fields = [
        uid_field("id", "uid"),
        Field("identity", "identity"),
        phone_field("phone", "phone", account),
        Field("country", "country"),
        Field("number_type", "number_type"),
        Field("email", "email"),
        Field("first_name", "first_name"),
        Field("last_name", "last_name"),
        Field("gender", "gender"),
        Field("birth_date", "birth_date", plain=True),
        Field("postal_code", "postal_code"),
        Field("company", "company"),
        Field("attributes", "attributes", lambda attributes: json.dumps(attributes, ensure_ascii=False)),
        time_field("created_at", "created_at", account),
    ]
    columns, paths = value_columns(fields)
    names = len(paths) + 1  # the tuples end with the contact's pk, its tag names and its group names
    columns[-2:-2] = [ExportColumn("tags", itemgetter(names)), ExportColumn("groups", itemgetter(names + 1))]
    rows = contacts.values_list(*paths, "pk").iterator(chunk_size=NAMES_CHUNK_ROWS)
    return Table(columns, _with_names(rows))


def _with_names(rows: Iterator[tuple]) -> Iterator[tuple]:
    while chunk := list(islice(rows, NAMES_CHUNK_ROWS)):
        pks = [row[-1] for row in chunk]
        tags = _names_by_contact(ContactTag.objects.filter(contact_id__in=pks).values_list("contact_id", "tag__name"))
        groups = _names_by_contact(
            GroupMember.objects.filter(contact_id__in=pks).values_list("contact_id", "group__name")
        )
        for row in chunk:
            yield (*row, tags.get(row[-1], ""), groups.get(row[-1], ""))


def _names_by_contact(pairs) -> dict[int, str]:
    names: dict[int, list[str]] = {}
    for contact_id, name in pairs:
        names.setdefault(contact_id, []).append(name)
    return {contact_id: ", ".join(sorted(found)) for contact_id, found in names.items()}


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
