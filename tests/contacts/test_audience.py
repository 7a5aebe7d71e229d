"""Segment semantics and audience resolution: one SQL statement, account-scoped, opt-outs excluded on request."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.audience import iter_members, resolve_audience, segment_q, segments_with_rules
from contacts.models import Contact, ContactTag, Group, GroupMember, Segment, Tag

pytestmark = pytest.mark.django_db

# contact name → its tags
PEOPLE = {
    "none": set(),
    "a": {"a"},
    "b": {"b"},
    "ab": {"a", "b"},
    "c": {"c"},
    "ac": {"a", "c"},
    "abc": {"a", "b", "c"},
}
ALL = set(PEOPLE)


@pytest.fixture
def world(account, other_account):
    tags = {name: Tag.objects.create(account=account, name=name) for name in "abc"}
    contacts = {}
    for number, (name, tag_names) in enumerate(PEOPLE.items()):
        contact = Contact.objects.create(account=account, phone=f"+9198765000{number:02d}", first_name=name)
        ContactTag.objects.bulk_create(ContactTag(contact=contact, tag=tags[t]) for t in tag_names)
        contacts[name] = contact
    # the other account has a contact with a same-named tag: it must never show up
    foreign_tag = Tag.objects.create(account=other_account, name="a")
    foreign = Contact.objects.create(account=other_account, phone="+447400123456", first_name="foreign")
    ContactTag.objects.create(contact=foreign, tag=foreign_tag)
    return tags, contacts


def make_segment(account, tags, positive="", positive_op="any", negative="", negative_op="any", **extra):
    segment = Segment.objects.create(
        account=account,
        name=f"{positive}/{positive_op}/{negative}/{negative_op}/{len(Segment.objects.all())}",
        positive_tags_operator=positive_op,
        negative_tags_operator=negative_op,
        **extra,
    )
    segment.positive_tags.set(tags[t] for t in positive)
    segment.negative_tags.set(tags[t] for t in negative)
    return segment


def names(queryset):
    return set(queryset.values_list("first_name", flat=True))


@pytest.mark.parametrize(
    ("positive", "positive_op", "negative", "negative_op", "expected"),
    [
        ("", "any", "", "any", ALL),  # empty rule: everyone
        ("", "all", "", "all", ALL),
        ("a", "any", "", "any", {"a", "ab", "ac", "abc"}),
        ("a", "all", "", "any", {"a", "ab", "ac", "abc"}),  # one tag: any == all
        ("ab", "any", "", "any", {"a", "b", "ab", "ac", "abc"}),
        ("ab", "all", "", "any", {"ab", "abc"}),
        ("abc", "all", "", "any", {"abc"}),
        ("", "any", "a", "any", {"none", "b", "c"}),  # only negatives
        ("", "any", "ab", "any", {"none", "c"}),
        ("", "any", "ab", "all", {"none", "a", "b", "c", "ac"}),  # not (a and b)
        ("ab", "any", "c", "any", {"a", "b", "ab"}),  # any of 2, none of 1 (the bench segment)
        ("ab", "all", "c", "any", {"ab"}),
        ("a", "any", "bc", "all", {"a", "ab", "ac"}),
        ("a", "any", "bc", "any", {"a"}),
        ("a", "any", "a", "any", set()),  # overlapping positive and negative tag
        ("ab", "any", "a", "any", {"b"}),
        ("ab", "all", "ab", "all", set()),
        ("ab", "any", "ab", "all", {"a", "b", "ac"}),
    ],
)
def test_segment_semantics(world, account, positive, positive_op, negative, negative_op, expected):
    tags, _ = world
    segment = make_segment(account, tags, positive, positive_op, negative, negative_op)
    assert names(resolve_audience(account, segments=[segment])) == expected


def test_group_restriction_and_attribute_conditions(world, account):
    tags, contacts = world
    vip = Group.objects.create(account=account, name="VIP")
    GroupMember.objects.bulk_create(GroupMember(group=vip, contact=contacts[n]) for n in ("a", "ab", "c"))
    for name, attributes in {"a": {"city": "Pune", "plan": "gold"}, "ab": {"city": "Mumbai"}, "c": {}}.items():
        Contact.objects.filter(pk=contacts[name].pk).update(attributes=attributes)

    in_group = make_segment(account, tags, "a")
    in_group.groups.set([vip])
    assert names(resolve_audience(account, segments=[in_group])) == {"a", "ab"}

    def with_conditions(conditions):
        segment = make_segment(account, tags, conditions=conditions)
        segment.groups.set([vip])
        return names(resolve_audience(account, segments=[segment]))

    assert with_conditions([{"key": "city", "operator": "equals", "value": "Pune"}]) == {"a"}
    assert with_conditions([{"key": "city", "operator": "contains", "value": "MUM"}]) == {"ab"}
    assert with_conditions([{"key": "plan", "operator": "exists", "value": ""}]) == {"a"}
    assert with_conditions([{"key": "city", "operator": "exists"}, {"key": "plan", "operator": "exists"}]) == {"a"}
    assert with_conditions([]) == {"a", "ab", "c"}


def test_audience_is_a_union_of_groups_tags_and_segments(world, account):
    tags, contacts = world
    group = Group.objects.create(account=account, name="Newsletter")
    GroupMember.objects.create(group=group, contact=contacts["none"])
    only_c = make_segment(account, tags, "c", "any", "a", "any")
    audience = resolve_audience(account, groups=[group], tags=["B"], segments=[str(only_c.uid)])
    assert names(audience) == {"none", "b", "ab", "abc", "c"}
    assert resolve_audience(account).count() == 0


def test_resolution_is_one_query(world, account):
    tags, _ = world
    segment = make_segment(account, tags, "ab", "any", "c", "all")
    loaded = segments_with_rules(Segment.objects.filter(pk=segment.pk)).get()
    with CaptureQueriesContext(connection) as queries:
        count = resolve_audience(account, segments=[loaded], tags=[tags["c"]]).count()
    assert count == 6
    assert len(queries) == 1
    assert " IN (SELECT" in queries[0]["sql"]


def test_another_accounts_objects_are_ignored(world, account, other_account):
    foreign_tag = Tag.objects.get(account=other_account)
    foreign_segment = Segment.objects.create(account=other_account, name="theirs")
    audience = resolve_audience(account, tags=[foreign_tag], segments=[foreign_segment, str(foreign_segment.uid)])
    assert audience.count() == 0
    mine = resolve_audience(account, tags=["a"])
    assert "foreign" not in names(mine)
    assert names(mine) == {"a", "ab", "ac", "abc"}


def test_segment_q_is_reusable_as_a_filter(world, account):
    tags, _ = world
    segment = make_segment(account, tags, "b")
    assert names(Contact.objects.filter(account=account).filter(segment_q(segment))) == {"b", "ab", "abc"}


def test_opted_out_numbers_are_excluded_when_asked(world, account):
    from contacts.models import Unsubscriber

    tags, contacts = world
    Unsubscriber.objects.create(account=account, receiver=contacts["a"].phone, type="all")
    Unsubscriber.objects.create(account=account, receiver=contacts["ab"].phone, type="sender", value="ACMEIN")
    Unsubscriber.objects.create(account=account, receiver=contacts["ac"].phone, type="tag", value="A")
    segment = make_segment(account, tags, "a")
    assert names(resolve_audience(account, segments=[segment])) == {"a", "ab", "ac", "abc"}
    assert names(resolve_audience(account, segments=[segment], exclude_suppressed=True)) == {"ab", "abc"}
    excluded = resolve_audience(account, segments=[segment], exclude_suppressed=True, sender="acmein")
    assert names(excluded) == {"abc"}
    by_tag_only = resolve_audience(account, tags=["b"], exclude_suppressed=True)
    assert names(by_tag_only) == {"b", "ab", "abc"}


def test_iter_members_streams_in_keyset_chunks(world, account, django_assert_max_num_queries):
    tags, _ = world
    segment = make_segment(account, tags, "a", "any", "c", "any")
    loaded = segments_with_rules(Segment.objects.filter(pk=segment.pk)).get()
    audience = resolve_audience(account, segments=[loaded], exclude_suppressed=True)
    with django_assert_max_num_queries(3):
        phones = [row[0] for row in iter_members(audience, chunk_size=1, fields=("phone",))]
    assert sorted(phones) == sorted(audience.values_list("phone", flat=True))
    assert len(phones) == 2
    names_streamed = sorted(contact.first_name for contact in iter_members(audience, chunk_size=5))
    assert names_streamed == ["a", "ab"]
