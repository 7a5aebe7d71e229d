"""The account's groups and segments named by a caller (an instance, a public id or a name), for every input that
takes them: contacts, segments, bulk actions, imports and campaign audiences. Another account's ids are unknown
here, and an unknown reference is a ValidationError naming it under the caller's field (a 422 through the API)."""

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.db.models.functions import Lower

from contacts.audience import is_uid
from contacts.models import Group, Segment

__all__ = ["check_audience_references", "groups_by_reference", "segments_by_reference"]


def groups_by_reference(account, references: Iterable, *, field: str = "groups") -> list[Group]:
    """The account's groups given by instance, uid or name; ValidationError under `field` naming the unknown."""
    return _by_reference(Group, account, references, field)


def segments_by_reference(account, references: Iterable, *, field: str = "segments") -> list[Segment]:
    """The account's segments given by instance, uid or name; ValidationError under `field` naming the unknown."""
    return _by_reference(Segment, account, references, field)


def check_audience_references(account, audience: Mapping, *, prefix: str = "audience.") -> None:
    """Every group and segment of an audience (`{"groups": [...], "segments": [...]}`) is the account's; else one
    ValidationError naming each unknown one under `<prefix>groups` / `<prefix>segments`."""
    errors: dict[str, list[str]] = {}
    for key, lookup in (("groups", groups_by_reference), ("segments", segments_by_reference)):
        try:
            lookup(account, audience.get(key) or (), field=f"{prefix}{key}")
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)


def _by_reference(model: type[Group] | type[Segment], account, references: Iterable, field: str) -> list:
    refs = list(references or ())
    found = [ref for ref in refs if isinstance(ref, model) and ref.account_id == account.pk]
    texts = [str(ref).strip() for ref in refs if not isinstance(ref, model)]
    if texts:
        uids = [text for text in texts if is_uid(text)]
        names = [text.lower() for text in texts if not is_uid(text)]
        matches = list(
            model.objects.filter(account=account)
            .annotate(name_key=Lower("name"))
            .filter(Q(uid__in=uids) | Q(name_key__in=names))
        )
        known = {str(item.uid) for item in matches} | {item.name.lower() for item in matches}
        unknown = [text for text in texts if text.lower() not in known and text not in known]
        if unknown:
            label = model._meta.verbose_name
            raise ValidationError({field: [f"Unknown {label}: {text}." for text in unknown]})
        found += matches
    return found
