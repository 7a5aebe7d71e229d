"""Writes on contacts, tags, groups and segments: atomic, audited, and emitting events on commit.

Creating, updating and deleting a contact emits `contacts:subscriber:subscription` through
`portal.events.emit` once the transaction commits. Bulk tag/untag/group operations take a queryset of
contacts (by ids or by any filter) and run as one `INSERT … SELECT` / `DELETE … WHERE` statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Lower

from contacts.fields import CONTACT_DATA_FIELDS
from contacts.links import linking_lock_clause, lock_for_delete, lock_for_linking
from contacts.models import (
    AttributeOperator,
    Contact,
    ContactTag,
    Group,
    GroupMember,
    Identifier,
    Segment,
    Tag,
    TagOperator,
)
from contacts.phones import PhoneNumberError, normalize_msisdn
from contacts.references import groups_by_reference
from portal.audit import record
from portal.events import emit

__all__ = [
    "ContactConflict",
    "add_tags",
    "add_to_group",
    "contact_payload",
    "create_contact",
    "delete_contact",
    "delete_contacts",
    "delete_identifier",
    "delete_named",
    "delete_segment",
    "groups_by_reference",
    "remove_from_group",
    "remove_tags",
    "save_identifier",
    "save_named",
    "save_segment",
    "tags_by_name",
    "update_contact",
]

EVENT = "contacts:subscriber:subscription"
DELETE_CHUNK = 5000  # contacts deleted per statement by a bulk delete


@dataclass
class ContactConflict(Exception):
    """A unique value (phone, identity, name) is already taken in the account."""

    field: str
    message: str

    def __str__(self) -> str:
        return self.message


# --- contacts -------------------------------------------------------------------------------------------


def create_contact(
    account, actor, *, tags: Iterable[str] | None = None, groups: Iterable | None = None, **fields
) -> Contact:
    """A new contact; the phone is normalised with the account's default country (ValidationError if invalid)."""
    contact = Contact(account=account)
    _assign(contact, fields)
    with transaction.atomic():
        _check_unique(contact)
        contact.save()
        _replace_memberships(contact, tags, groups)
        record(account, actor, "contact.created", contact, after=contact_payload(contact))
        _emit_on_commit(contact, "created")
    return contact


def update_contact(
    contact: Contact, actor, *, tags: Iterable[str] | None = None, groups: Iterable | None = None, **fields
):
    """Change the given fields (and, when given, replace the tags / groups) of a contact."""
    before = contact_payload(contact)
    _assign(contact, fields)
    with transaction.atomic():
        _check_unique(contact)
        contact.save()
        _replace_memberships(contact, tags, groups)
        after = contact_payload(contact)
        record(contact.account, actor, "contact.updated", contact, before=before, after=after)
        _emit_on_commit(contact, "updated")
    return contact


def delete_contact(contact: Contact, actor) -> None:
    """Delete a contact (its identifiers and memberships go with it); tags and groups stay."""
    payload = contact_payload(contact)
    with transaction.atomic():
        record(contact.account, actor, "contact.deleted", contact, before=payload)
        lock_for_delete(Contact.objects.filter(pk=contact.pk))
        contact.delete()
        transaction.on_commit(lambda: emit(contact.account, EVENT, {"action": "deleted", "contact": payload}))


def delete_contacts(account, actor, contacts: QuerySet[Contact]) -> int:
    """Delete every contact of the queryset (scoped to the account); one event per deleted contact."""
    with transaction.atomic():
        ids = lock_for_delete(contacts.filter(account=account))
        payloads = []
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = Contact.objects.filter(pk__in=ids[start : start + DELETE_CHUNK])
            payloads.extend(_light_payload(row) for row in chunk.values("uid", "identity", "phone"))
            chunk.delete()
        if not payloads:
            return 0
        record(account, actor, "contact.bulk_deleted", account, after={"count": len(payloads)})

        def announce() -> None:
            for payload in payloads:
                emit(account, EVENT, {"action": "deleted", "contact": payload}, identity=payload["phone"])

        transaction.on_commit(announce)
    return len(payloads)


def contact_payload(contact: Contact) -> dict:
    """The contact as events, webhooks and the audit trail see it."""
    return {
        "id": str(contact.uid),
        "identity": contact.identity,
        "phone": contact.phone,
        "country": contact.country,
        "email": contact.email,
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "gender": contact.gender,
        "birth_date": contact.birth_date.isoformat() if contact.birth_date else None,
        "postal_code": contact.postal_code,
        "company": contact.company,
        "attributes": contact.attributes,
        "tags": sorted(tag.name for tag in contact.tags.all()) if contact.pk else [],
        "groups": sorted(group.name for group in contact.groups.all()) if contact.pk else [],
    }


def _light_payload(row: dict) -> dict:
    return {"id": str(row["uid"]), "identity": row["identity"], "phone": row["phone"]}


def _emit_on_commit(contact: Contact, action: str) -> None:
    payload = {"action": action, "contact": contact_payload(contact)}
    transaction.on_commit(lambda: emit(contact.account, EVENT, payload, identity=contact.phone))


def _assign(contact: Contact, fields: dict) -> None:
    unknown = set(fields) - set(CONTACT_DATA_FIELDS)
    if unknown:
        raise ValueError(f"unknown contact fields: {sorted(unknown)}")
    for name, value in fields.items():
        if name == "phone":
            _set_phone(contact, value)
        elif name == "identity":
            contact.identity = (value or "").strip() or contact.identity
        elif name == "attributes":
            if value is not None and not isinstance(value, dict):
                raise ValidationError({"attributes": ["Must be an object of keys and values."]})
            contact.attributes = value or {}
        else:
            setattr(contact, name, "" if value is None and name not in ("birth_date",) else value)
    if not contact.phone:
        raise ValidationError({"phone": ["A phone number is required."]})


def _set_phone(contact: Contact, raw) -> None:
    try:
        result = normalize_msisdn(raw, contact.account.default_country)
    except PhoneNumberError as exc:
        raise ValidationError({"phone": [f"Not a valid phone number: {exc.reason}."]}) from None
    contact.phone = result.e164
    contact.country = result.country or ""
    contact.number_type = result.number_type or ""
    contact.phone_valid = result.valid


def _check_unique(contact: Contact) -> None:
    others = Contact.objects.filter(account_id=contact.account_id).exclude(pk=contact.pk)
    if others.filter(phone=contact.phone).exists():
        raise ContactConflict("phone", f"A contact with phone {contact.phone} already exists.")
    if others.filter(identity=contact.identity).exists():
        raise ContactConflict("identity", f"A contact with identity {contact.identity!r} already exists.")


def _replace_memberships(contact: Contact, tags: Iterable[str] | None, groups: Iterable | None) -> None:
    if tags is not None:
        contact.tags.set(_still_there(Tag, tags_by_name(contact.account, tags)))
    if groups is not None:
        contact.groups.set(_still_there(Group, groups_by_reference(contact.account, groups)))


def _still_there(model, objects: list) -> list:
    """The objects not deleted since they were read, locked for linking until the transaction ends."""
    if not objects:
        return objects
    kept = set(lock_for_linking(model.objects.filter(pk__in=[obj.pk for obj in objects])))
    return [obj for obj in objects if obj.pk in kept]


# --- identifiers ----------------------------------------------------------------------------------------


def save_identifier(contact: Contact, actor, *, type: str, value: str, identifier: Identifier | None = None):
    """Create or change one identifier of a contact (unique per contact, type and value)."""
    value = (value or "").strip()
    if not value:
        raise ValidationError({"value": ["A value is required."]})
    if type == "phone":
        try:
            value = normalize_msisdn(value, contact.account.default_country).e164
        except PhoneNumberError as exc:
            raise ValidationError({"value": [f"Not a valid phone number: {exc.reason}."]}) from None
    target = identifier or Identifier(account=contact.account, contact=contact)
    clash = Identifier.objects.filter(contact=contact, type=type, value=value).exclude(pk=target.pk)
    if clash.exists():
        raise ContactConflict("value", f"This contact already has the {type} identifier {value}.")
    target.type, target.value = type, value
    with transaction.atomic():
        target.save()
        record(contact.account, actor, "identifier.saved", target, after={"type": type, "value": value})
    return target


def delete_identifier(identifier: Identifier, actor) -> None:
    with transaction.atomic():
        before = {"type": identifier.type, "value": identifier.value}
        record(identifier.account, actor, "identifier.deleted", identifier, before=before)
        identifier.delete()


# --- tags and groups ------------------------------------------------------------------------------------


def tags_by_name(account, names: Iterable[str], *, create: bool = True) -> list[Tag]:
    """The account's tags with these names (case-insensitive), created when missing."""
    wanted: dict[str, str] = {}
    for name in names or ():
        text = str(name).strip()
        if text:
            wanted.setdefault(text.lower(), text)
    if not wanted:
        return []
    existing = {
        tag.name_key: tag
        for tag in Tag.objects.filter(account=account).annotate(name_key=Lower("name")).filter(name_key__in=wanted)
    }
    missing = [Tag(account=account, name=wanted[key]) for key in wanted if key not in existing]
    if missing and create:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {
            tag.name_key: tag
            for tag in Tag.objects.filter(account=account).annotate(name_key=Lower("name")).filter(name_key__in=wanted)
        }
    return [existing[key] for key in wanted if key in existing]


def save_named(model: type[Tag] | type[Group], account, actor, *, instance=None, **fields):
    """Create or rename a tag or group (names unique per account, case-insensitively)."""
    name = (fields.get("name") or "").strip()
    if not name:
        raise ValidationError({"name": ["A name is required."]})
    fields["name"] = name
    target = instance or model(account=account)
    clash = model.objects.filter(account=account).annotate(name_key=Lower("name")).filter(name_key=name.lower())
    if clash.exclude(pk=target.pk).exists():
        raise ContactConflict("name", f"A {model._meta.verbose_name} named {name!r} already exists.")
    for key, value in fields.items():
        setattr(target, key, value)
    label = model._meta.model_name
    with transaction.atomic():
        created = target.pk is None
        target.save()
        record(account, actor, f"{label}.{'created' if created else 'updated'}", target, after=fields)
    return target


def delete_named(instance: Tag | Group, actor) -> None:
    """Delete a tag or group; its contacts are kept (only the links go)."""
    with transaction.atomic():
        record(
            instance.account, actor, f"{instance._meta.model_name}.deleted", instance, before={"name": instance.name}
        )
        lock_for_delete(type(instance).objects.filter(pk=instance.pk))
        instance.delete()


def add_tags(account, actor, contacts: QuerySet[Contact], tags: Iterable[Tag]) -> int:
    """Tag every contact of the queryset (scoped to the account) with each tag; returns links created."""
    created = 0
    with transaction.atomic():
        for tag in sorted(tags, key=lambda tag: tag.pk):  # the order every locker uses (contacts.links)
            created += _link(ContactTag, "tag_id", _owned(tag, account), contacts.filter(account=account))
        record(account, actor, "contact.bulk_tagged", account, after={"links": created})
    return created


def remove_tags(account, actor, contacts: QuerySet[Contact], tags: Iterable[Tag]) -> int:
    """Remove the tags from every contact of the queryset; returns links removed."""
    ids = [_owned(tag, account).pk for tag in tags]
    with transaction.atomic():
        removed, _ = ContactTag.objects.filter(
            tag_id__in=ids, contact_id__in=contacts.filter(account=account).order_by().values("id")
        ).delete()
        record(account, actor, "contact.bulk_untagged", account, after={"links": removed})
    return removed


def add_to_group(account, actor, contacts: QuerySet[Contact], group: Group) -> int:
    """Add every contact of the queryset (scoped to the account) to the group; returns members added."""
    with transaction.atomic():
        added = _link(GroupMember, "group_id", _owned(group, account), contacts.filter(account=account))
        record(account, actor, "group.members_added", group, after={"added": added})
    return added


def remove_from_group(account, actor, contacts: QuerySet[Contact], group: Group) -> int:
    """Remove the queryset's contacts from the group (the contacts stay); returns members removed."""
    with transaction.atomic():
        removed, _ = GroupMember.objects.filter(
            group_id=_owned(group, account).pk,
            contact_id__in=contacts.filter(account=account).order_by().values("id"),
        ).delete()
        record(account, actor, "group.members_removed", group, after={"removed": removed})
    return removed


def _owned(obj, account):
    if obj.account_id != account.pk:
        raise ValidationError(f"{obj._meta.verbose_name.capitalize()} not found.")
    return obj


def _link(link_model, target_column: str, target: Tag | Group, contacts: QuerySet[Contact]) -> int:
    """`INSERT INTO link (contact_id, target) SELECT id, target FROM contacts WHERE chosen AND not linked yet`,
    with the target locked for linking first and the contacts locked by the statement itself (`contacts.links`),
    so that it locks exactly the contacts it links."""
    if not lock_for_linking(type(target).objects.filter(pk=target.pk)):
        raise ValidationError(f"{target._meta.verbose_name.capitalize()} not found.")
    quote = connection.ops.quote_name
    table = quote(link_model._meta.db_table)
    select_sql, params = contacts.order_by().values("id").query.sql_with_params()
    sql = (
        f"INSERT INTO {table} ({quote('contact_id')}, {quote(target_column)}) "
        f"SELECT c.id, %s FROM {quote(Contact._meta.db_table)} c WHERE c.id IN ({select_sql}) "
        f"AND c.id NOT IN (SELECT {quote('contact_id')} FROM {table} WHERE {quote(target_column)} = %s)"
        f"{linking_lock_clause('c')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [target.pk, *params, target.pk])
        return max(cursor.rowcount, 0)


# --- segments -------------------------------------------------------------------------------------------


def save_segment(
    account,
    actor,
    *,
    segment: Segment | None = None,
    name: str,
    description: str = "",
    positive_tags: Iterable[Tag] = (),
    positive_tags_operator: str = TagOperator.ANY,
    negative_tags: Iterable[Tag] = (),
    negative_tags_operator: str = TagOperator.ANY,
    groups: Iterable[Group] = (),
    conditions: list | None = None,
) -> Segment:
    """Create or change a segment; tags and groups must be the account's, conditions well formed."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["A name is required."]})
    target = segment or Segment(account=account)
    clash = Segment.objects.filter(account=account).annotate(name_key=Lower("name")).filter(name_key=name.lower())
    if clash.exclude(pk=target.pk).exists():
        raise ContactConflict("name", f"A segment named {name!r} already exists.")
    for operator in (positive_tags_operator, negative_tags_operator):
        if operator not in TagOperator.values:
            raise ValidationError({"operator": [f"Unknown operator {operator!r}: use any or all."]})
    positive, negative, group_list = list(positive_tags), list(negative_tags), list(groups)
    for obj in (*positive, *negative, *group_list):
        _owned(obj, account)
    target.name, target.description = name, description or ""
    target.positive_tags_operator, target.negative_tags_operator = positive_tags_operator, negative_tags_operator
    target.conditions = clean_conditions(conditions or [])
    with transaction.atomic():
        created = target.pk is None
        target.save()
        target.positive_tags.set(positive)
        target.negative_tags.set(negative)
        target.groups.set(group_list)
        record(account, actor, f"segment.{'created' if created else 'updated'}", target, after=segment_rules(target))
    return target


def delete_segment(segment: Segment, actor) -> None:
    with transaction.atomic():
        record(segment.account, actor, "segment.deleted", segment, before=segment_rules(segment))
        segment.delete()


def segment_rules(segment: Segment) -> dict:
    return {
        "name": segment.name,
        "positive_tags": sorted(tag.name for tag in segment.positive_tags.all()),
        "positive_tags_operator": segment.positive_tags_operator,
        "negative_tags": sorted(tag.name for tag in segment.negative_tags.all()),
        "negative_tags_operator": segment.negative_tags_operator,
        "groups": sorted(group.name for group in segment.groups.all()),
        "conditions": segment.conditions,
    }


def clean_conditions(conditions: list) -> list[dict]:
    """Attribute conditions checked and normalised: `[{"key", "operator", "value"}]`."""
    if not isinstance(conditions, list):
        raise ValidationError({"conditions": ["Must be a list of {key, operator, value} objects."]})
    cleaned = []
    for position, item in enumerate(conditions, start=1):
        if not isinstance(item, dict):
            raise ValidationError({"conditions": [f"Condition {position}: must be an object."]})
        key = str(item.get("key") or "").strip()
        operator = str(item.get("operator") or AttributeOperator.EQUALS)
        if not key:
            raise ValidationError({"conditions": [f"Condition {position}: a key is required."]})
        if operator not in AttributeOperator.values:
            allowed = ", ".join(AttributeOperator.values)
            raise ValidationError({"conditions": [f"Condition {position}: operator must be one of {allowed}."]})
        value = "" if operator == AttributeOperator.EXISTS else str(item.get("value") or "")
        cleaned.append({"key": key, "operator": operator, "value": value})
    return cleaned
