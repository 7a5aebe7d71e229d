"""Audience resolution: which contacts a group, tag or segment selection means, as ONE SQL statement.

Every positive rule is a `contact.id IN (SELECT contact_id FROM <link table> WHERE …)` subquery, combined with
AND / OR / NOT in one WHERE clause; nothing loops over contacts in Python. Exclusions (negative tags, opt-outs)
are `NOT IN (subquery)` on SQLite (its fastest shape, about 6 times faster than EXISTS there; performance.md)
and `NOT EXISTS` on PostgreSQL, which turns them into anti-joins run after the positive semi-join.
Reading a segment's definition (its tag and group ids) costs up to three small queries unless the segment
was fetched with `segments_with_rules()`.

Segment semantics:
- positive tags, operator `any`: the contact has at least one of them; `all`: it has every one of them;
  no positive tags: no restriction (every contact);
- negative tags, operator `any`: the contact has none of them; `all`: it does not have all of them together;
  no negative tags: nothing excluded;
- groups: the contact is in at least one of them (none given: no restriction);
- conditions: every item must hold, on `attributes`: `equals` (text comparison), `contains`
  (case-insensitive substring of the text), `exists` (the key is present).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from uuid import UUID

from django.db import connection
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce, Lower
from django.db.models.lookups import Exact, IContains

from contacts.models import AttributeOperator, Contact, ContactTag, Group, GroupMember, Segment, Tag, TagOperator
from contacts.suppression import suppressed_receivers_q

__all__ = [
    "condition_q",
    "contacts_in_groups_q",
    "contacts_with_tags_q",
    "contacts_without_tags_q",
    "exclude_opted_out",
    "is_uid",
    "iter_members",
    "resolve_audience",
    "rules_q",
    "segment_q",
    "segments_with_rules",
    "targeted_tag_names",
    "with_contact_counts",
]


def segments_with_rules(queryset: QuerySet[Segment] | None = None) -> QuerySet[Segment]:
    """Segments with their tag and group ids prefetched, so resolving them needs no further query."""
    queryset = Segment.objects.all() if queryset is None else queryset
    return queryset.prefetch_related("positive_tags", "negative_tags", "groups")


def contacts_with_tags_q(tag_ids: Iterable[int], *, operator: str = TagOperator.ANY) -> Q:
    """Contacts having any (or all) of these tags. Callers handle the empty case."""
    ids = sorted(set(tag_ids))
    if operator == TagOperator.ALL:
        condition = Q()
        for tag_id in ids:
            condition &= Q(id__in=ContactTag.objects.filter(tag_id=tag_id).values("contact_id"))
        return condition
    return Q(id__in=ContactTag.objects.filter(tag_id__in=ids).values("contact_id"))


def contacts_without_tags_q(tag_ids: Iterable[int], *, operator: str = TagOperator.ANY) -> Q:
    """Contacts lacking any (`any`: none of them) or all (`all`: not every one) of these tags.

    PostgreSQL gets `NOT EXISTS` (an anti-join it can run after the positive semi-join instead of probing every
    contact); SQLite keeps `NOT IN (subquery)`, its fastest shape.
    """
    if not _anti_joins_preferred():
        return ~contacts_with_tags_q(tag_ids, operator=operator)
    ids = sorted(set(tag_ids))
    links = ContactTag.objects.filter(contact_id=OuterRef("pk"))
    if operator == TagOperator.ALL:
        having_all = Q()
        for tag_id in ids:
            having_all &= Q(Exists(links.filter(tag_id=tag_id)))
        return ~having_all
    return ~Q(Exists(links.filter(tag_id__in=ids)))


def contacts_in_groups_q(group_ids: Iterable[int]) -> Q:
    """Contacts that are members of at least one of these groups."""
    return Q(id__in=GroupMember.objects.filter(group_id__in=sorted(set(group_ids))).values("contact_id"))


def condition_q(condition: dict) -> Q:
    """One attribute condition (`{"key", "operator", "value"}`) as a filter on `attributes`."""
    key = str(condition.get("key", ""))
    operator = condition.get("operator", AttributeOperator.EQUALS)
    if operator == AttributeOperator.EXISTS:
        return Q(attributes__has_key=key)
    value = "" if condition.get("value") is None else str(condition.get("value"))
    text = KeyTextTransform(key, "attributes")
    if operator == AttributeOperator.CONTAINS:
        return Q(IContains(text, value))
    return Q(Exact(text, value))


def segment_q(segment: Segment) -> Q:
    """The segment's rule as a Q on Contact (not restricted to an account: callers scope it)."""
    return rules_q(
        positive=[tag.pk for tag in segment.positive_tags.all()],
        positive_operator=segment.positive_tags_operator,
        negative=[tag.pk for tag in segment.negative_tags.all()],
        negative_operator=segment.negative_tags_operator,
        group_ids=[group.pk for group in segment.groups.all()],
        conditions=segment.conditions or [],
    )


def rules_q(
    *,
    positive: Iterable[int] = (),
    positive_operator: str = TagOperator.ANY,
    negative: Iterable[int] = (),
    negative_operator: str = TagOperator.ANY,
    group_ids: Iterable[int] = (),
    conditions: Iterable[dict] = (),
) -> Q:
    """A segment rule from tag and group primary keys (also for unsaved rules, e.g. the builder's live count)."""
    positive, negative, group_ids = list(positive), list(negative), list(group_ids)
    rule = Q()
    if positive:
        rule &= contacts_with_tags_q(positive, operator=positive_operator)
    if negative:
        rule &= contacts_without_tags_q(negative, operator=negative_operator)
    if group_ids:
        rule &= contacts_in_groups_q(group_ids)
    for condition in conditions:
        rule &= condition_q(condition)
    return rule


def with_contact_counts(queryset: QuerySet) -> QuerySet:
    """Tags or groups annotated with `contacts_count` (one correlated count per row over the link table)."""
    link_model, column = (ContactTag, "tag") if queryset.model is Tag else (GroupMember, "group")
    counts = (
        link_model.objects.filter(**{column: OuterRef("pk")})
        .order_by()
        .values(column)
        .annotate(total=Count("*"))
        .values("total")
    )
    return queryset.annotate(contacts_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0))


def resolve_audience(
    account,
    *,
    groups: Iterable = (),
    segments: Iterable = (),
    tags: Iterable = (),
    exclude_suppressed: bool = False,
    sender=None,
    product=None,
) -> QuerySet[Contact]:
    """Contacts of the account in any of `groups`, any of `segments` or having any of `tags` (a union).

    Groups, segments and tags are model instances, public ids (uid) or, for tags, names; another account's
    are ignored. Nothing selected means no contacts. With `exclude_suppressed`, numbers opted out of
    everything, of `sender`, of `product` or of one of the targeted tags (the given tags and the segments'
    positive tags) are left out. The result is a lazy queryset: one SQL statement when evaluated.
    """
    group_ids = _ids(Group, account, groups)
    tag_list = _tags(account, tags)
    segment_list = _segments(account, segments)
    selection = Q()
    matched_any = False
    if group_ids:
        selection |= contacts_in_groups_q(group_ids)
        matched_any = True
    if tag_list:
        selection |= contacts_with_tags_q(tag.pk for tag in tag_list)
        matched_any = True
    for segment in segment_list:
        selection |= segment_q(segment)
        matched_any = True
    if not matched_any:
        return Contact.objects.none()
    audience = Contact.objects.filter(account=account).filter(selection)
    if exclude_suppressed:
        targeted = _targeted_names(tag_list, segment_list)
        audience = exclude_opted_out(audience, account, sender=sender, product=product, tags=targeted)
    return audience


def targeted_tag_names(account, *, tags: Iterable = (), segments: Iterable = ()) -> tuple[str, ...]:
    """Names of the tags a selection targets: the given tags and the positive tags of the given segments.
    A number opted out of one of them (type `tag`) gets no message of that send."""
    return _targeted_names(_tags(account, tags), _segments(account, segments))


def _targeted_names(tag_list: list[Tag], segment_list: list[Segment]) -> tuple[str, ...]:
    names = [tag.name for tag in tag_list]
    names += [tag.name for segment in segment_list for tag in segment.positive_tags.all()]
    return tuple(dict.fromkeys(names))


def exclude_opted_out(queryset: QuerySet[Contact], account, *, sender=None, product=None, tags=()) -> QuerySet:
    """The queryset without contacts whose number must not get this message (contacts.suppression's rule)."""
    suppressed = suppressed_receivers_q(account, sender=sender, product=product, tags=tags)
    if _anti_joins_preferred():
        return queryset.exclude(Exists(suppressed.filter(receiver=OuterRef("phone"))))
    return queryset.exclude(phone__in=suppressed)


def iter_members(queryset: QuerySet[Contact], *, chunk_size: int = 5000, fields: tuple[str, ...] = ()) -> Iterator:
    """Every row of an audience, `chunk_size` at a time, in constant memory: model instances, or tuples of `fields`.

    PostgreSQL: keyset pagination on the primary key (each chunk a short query that can use a parallel plan; no
    long-lived cursor or transaction; a worker can resume after the last id it handled). A server-side cursor
    would run without parallel workers and measured about twice as slow at 1M contacts. SQLite: one query read in
    chunks, since re-running its `NOT IN` subqueries per chunk costs more than the cursor.
    """
    if not _anti_joins_preferred():
        rows = queryset.values_list(*fields) if fields else queryset
        yield from rows.iterator(chunk_size=chunk_size)
        return
    ordered = queryset.order_by("pk")
    last_id = 0
    while True:
        chunk = ordered.filter(pk__gt=last_id)[:chunk_size]
        if fields:
            batch = list(chunk.values_list("pk", *fields))
            ids = [row[0] for row in batch]
            yield from (row[1:] for row in batch)
        else:
            batch = list(chunk)
            ids = [contact.pk for contact in batch]
            yield from batch
        if len(batch) < chunk_size:
            return
        last_id = ids[-1]


def _anti_joins_preferred() -> bool:
    return connection.vendor == "postgresql"


def is_uid(value) -> bool:
    """True when `value` is a UUID or its text form (a public id)."""
    if isinstance(value, UUID):
        return True
    try:
        UUID(str(value))
    except ValueError:
        return False
    return True


def _ids(model, account, items: Iterable) -> list[int]:
    """Primary keys of the account's objects among `items` (instances or uids)."""
    items = list(items or ())
    own = [item.pk for item in items if isinstance(item, model) and item.account_id == account.pk]
    uids = [str(item) for item in items if not isinstance(item, model) and is_uid(item)]
    if uids:
        own += list(model.objects.filter(account=account, uid__in=uids).values_list("pk", flat=True))
    return own


def _tags(account, items: Iterable) -> list[Tag]:
    """The account's tags among `items` (instances, uids or names, case-insensitive)."""
    items = list(items or ())
    found = [item for item in items if isinstance(item, Tag) and item.account_id == account.pk]
    others = [str(item) for item in items if not isinstance(item, Tag)]
    if others:
        uids = [value for value in others if is_uid(value)]
        names = [value.strip().lower() for value in others if not is_uid(value)]
        candidates = Tag.objects.filter(account=account).annotate(name_key=Lower("name"))
        found += list(candidates.filter(Q(uid__in=uids) | Q(name_key__in=names)))
    return found


def _segments(account, items: Iterable) -> list[Segment]:
    """The account's segments among `items` (instances or uids), with rules loaded."""
    items = list(items or ())
    found = [item for item in items if isinstance(item, Segment) and item.account_id == account.pk]
    uids = [str(item) for item in items if not isinstance(item, Segment) and is_uid(item)]
    if uids:
        found += list(segments_with_rules(Segment.objects.filter(account=account, uid__in=uids)))
    return found
