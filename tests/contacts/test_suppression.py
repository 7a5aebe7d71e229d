import pytest
from django.utils import timezone

from contacts.models.unsubscribers import InboundMessage, Unsubscriber
from contacts.services_unsubscribers import add_unsubscriber
from contacts.suppression import annotate_opt_out, is_suppressed, suppressed_receivers_q, suppression_reasons

NUMBER = "+919876543210"
OTHER = "+919876543211"


@pytest.fixture
def optout(account, admin_user):
    def make(receiver=NUMBER, type="all", value="", target=None):
        return add_unsubscriber(target or account, admin_user, receiver=receiver, type=type, value=value)[0]

    return make


def test_all_suppresses_every_message(account, optout):
    optout(type="all")
    assert is_suppressed(account, NUMBER)
    assert is_suppressed(account, NUMBER, sender="ACMEBK")
    assert is_suppressed(account, NUMBER, product="OTP", tags=["vip"])
    assert not is_suppressed(account, OTHER)


def test_sender_suppresses_only_that_sender(account, optout):
    optout(type="sender", value="ACMEBK")
    assert is_suppressed(account, NUMBER, sender="ACMEBK")
    assert is_suppressed(account, NUMBER, sender="acmebk")
    assert not is_suppressed(account, NUMBER, sender="OTHERS")
    assert not is_suppressed(account, NUMBER)


def test_product_suppresses_only_that_product(account, optout):
    optout(type="product", value="promo")
    assert is_suppressed(account, NUMBER, product="PROMO")
    assert not is_suppressed(account, NUMBER, product="otp")
    assert not is_suppressed(account, NUMBER, sender="ACMEBK")


def test_product_is_taken_from_a_sender_object(account, optout):
    class Sender:
        name = "ACMEBK"
        service = "promo"

    optout(type="product", value="promo")
    assert is_suppressed(account, NUMBER, sender=Sender())


def test_tag_suppresses_only_campaigns_targeting_that_tag(account, optout):
    optout(type="tag", value="Newsletter")
    assert is_suppressed(account, NUMBER, tags=["newsletter"])
    assert is_suppressed(account, NUMBER, tags=["vip", "Newsletter"])
    assert not is_suppressed(account, NUMBER, tags=["vip"])
    assert not is_suppressed(account, NUMBER, sender="ACMEBK")


@pytest.mark.parametrize("raw", ["+91 98765 43210", "919876543210", "09876543210", "+919876543210", "98765-43210"])
def test_receiver_formats_are_one_number(account, optout, raw):
    optout(receiver="+91 98765 43210")
    assert is_suppressed(account, raw)
    assert suppression_reasons(account, [raw]) == {raw: "all"}


def test_the_three_formats_are_one_opt_out(account, admin_user):
    results = [
        add_unsubscriber(account, admin_user, receiver=raw, type="all")
        for raw in ["+91 98765 43210", "919876543210", "09876543210"]
    ]
    assert [created for _, created in results] == [True, False, False]
    assert Unsubscriber.objects.filter(account=account).count() == 1


def test_reasons_report_the_broadest_scope_in_one_query(account, optout, django_assert_num_queries):
    optout(receiver=NUMBER, type="tag", value="vip")
    optout(receiver=NUMBER, type="all")
    optout(receiver=OTHER, type="sender", value="ACMEBK")
    optout(receiver="+919876543212", type="tag", value="vip")
    numbers = [NUMBER, OTHER, "+919876543212", "+919876543213", "not a number"]
    with django_assert_num_queries(1):
        reasons = suppression_reasons(account, numbers, sender="ACMEBK", tags=["vip"])
    assert reasons == {NUMBER: "all", OTHER: "sender", "+919876543212": "tag"}


def test_reasons_are_chunked_for_huge_inputs(account, optout, monkeypatch):
    import contacts.suppression as suppression

    monkeypatch.setattr(suppression, "CHUNK_SIZE", 2)
    optout(receiver="+919876543215")
    numbers = [f"+91987654321{digit}" for digit in range(10)]
    assert suppression_reasons(account, numbers) == {"+919876543215": "all"}


def test_opt_outs_of_another_account_do_not_apply(account, other_account, optout):
    optout(target=other_account, receiver="+447400123456")
    assert not is_suppressed(account, "+447400123456")
    assert is_suppressed(other_account, "+447400123456")


def test_subquery_excludes_suppressed_receivers_in_one_statement(account, optout, django_assert_num_queries):
    now = timezone.now()
    for number in (NUMBER, OTHER, "+919876543212"):
        InboundMessage.objects.create(account=account, from_number=number, received_at=now)
    optout(receiver=NUMBER, type="all")
    optout(receiver=OTHER, type="sender", value="ACMEBK")
    rows = InboundMessage.objects.for_account(account)
    with django_assert_num_queries(1):
        allowed = set(
            rows.exclude(from_number__in=suppressed_receivers_q(account)).values_list("from_number", flat=True)
        )
    assert allowed == {OTHER, "+919876543212"}
    scoped = suppressed_receivers_q(account, sender="ACMEBK")
    assert set(rows.exclude(from_number__in=scoped).values_list("from_number", flat=True)) == {"+919876543212"}


def test_annotation_gives_the_broadest_type_per_row(account, optout):
    now = timezone.now()
    for number in (NUMBER, OTHER, "+919876543212"):
        InboundMessage.objects.create(account=account, from_number=number, received_at=now)
    optout(receiver=NUMBER, type="tag", value="vip")
    optout(receiver=NUMBER, type="all")
    optout(receiver=OTHER, type="product", value="promo")
    rows = annotate_opt_out(InboundMessage.objects.for_account(account), account, field="from_number")
    assert {row.from_number: row.opt_out_type for row in rows} == {
        NUMBER: "all",
        OTHER: "product",
        "+919876543212": None,
    }
