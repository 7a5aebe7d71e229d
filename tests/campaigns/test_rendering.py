from decimal import Decimal
from types import SimpleNamespace

import pytest

from campaigns.models import Price
from campaigns.pricing import price_list
from campaigns.rendering import (
    compile_body,
    fields_needed,
    render,
    render_for_contact,
    required_variables,
    values_for,
    variables_in,
)
from campaigns.sending.planning import encode
from campaigns.template_filters import FilterFailure
from campaigns.variables import first_malformed_variable
from tests.campaigns.filter_corpus import INVALID, VALID


def test_render_fills_variables_verbatim_and_leaves_missing_empty():
    assert render("Hi {{name}}, {{city}}!", {"name": "O'Brien & <Co>", "city": "Pune"}) == "Hi O'Brien & <Co>, Pune!"
    assert render("Hi {{name}} {{missing}}.", {"name": "A"}) == "Hi A ."
    assert render("No variables", {}) == "No variables"
    assert variables_in("{{a}} {{b}} {{a}}") == ["a", "b"]


@pytest.mark.parametrize("token", ["{{ city }}", "{{city }}", "{city}", "{{{city}}}", "{{1city}}", "{{", "}}"])
def test_malformed_variables_are_literal_text(token):
    """The template rules call these malformed, so the renderer never fills them in."""
    body = f"Hi {{{{name}}}}, {token}!"
    assert render(body, {"name": "Asha", "city": "Pune"}) == f"Hi Asha, {token}!"
    assert variables_in(body) == ["name"]


def test_values_come_from_fields_attributes_or_defaults():
    contact = SimpleNamespace(first_name="", last_name="Rao", attributes={"city": "Goa", "plan": "gold"})
    mapping = {
        "name": {"source": "first_name", "default": "friend"},
        "city": {"source": "attributes.city"},
        "surname": {"source": "last_name"},
    }
    values = values_for(contact, ["name", "city", "surname", "plan", "nothing"], mapping)
    assert values == {"name": "friend", "city": "Goa", "surname": "Rao", "plan": "gold", "nothing": ""}
    text, _ = render_for_contact("{{first_name}} {{name}} from {{city}}", {"first_name": "Asha", "attributes": {}}, {})
    assert text == "Asha  from "  # an unmapped variable is looked up by its own name
    assert fields_needed(["name", "city", "x"], mapping) == {"first_name", "attributes"}


@pytest.mark.parametrize(
    ("text", "message_type", "sent", "encoding", "parts"),
    [
        ("Plain text", "A", "Plain text", "GSM-7", 1),
        ("Plain text", "U", "Plain text", "UCS-2", 1),
        ("a" * 71, "U", "a" * 71, "UCS-2", 2),
        ("Café ✓", "N", "Café ?", "GSM-7", 1),
        ("Café ✓", "A", "Café ✓", "UCS-2", 1),
    ],
)
def test_send_types_choose_the_encoding(text, message_type, sent, encoding, parts):
    body, result = encode(text, message_type)
    assert (body, result.encoding, result.parts) == (sent, encoding, parts)


@pytest.mark.django_db
def test_account_prices_override_the_platform_list(account, other_account):
    Price.objects.create(country="IN", service="MKT", price=Decimal("0.01"))
    Price.objects.create(country="GB", service="MKT", price=Decimal("0.04"))
    Price.objects.create(country="GB", service="MKT", price=Decimal("0.50"), status=0, account=other_account)
    Price.objects.create(country="IN", service="MKT", price=Decimal("0.008"), account=account)
    assert price_list(account, "MKT") == {"IN": Decimal("0.008"), "GB": Decimal("0.04")}
    assert price_list(other_account, "MKT") == {"IN": Decimal("0.01"), "GB": Decimal("0.04")}
    assert price_list(account, "ENT") == {}


@pytest.mark.parametrize(
    "row",
    [
        {"first_name": "Asha", "attributes": {"city": "Pune", "plan": 3}},
        {"first_name": "", "attributes": {}},
        {"first_name": None, "attributes": None},
    ],
)
def test_row_fast_path_gives_the_same_values(row):
    from campaigns.rendering import value_sources, values_from_row

    mapping = {"name": {"source": "first_name", "default": "friend"}, "city": {"source": "attributes.city"}}
    variables = ["name", "city", "plan"]
    assert values_from_row(row, value_sources(variables, mapping)) == values_for(row, variables, mapping)


@pytest.mark.parametrize("case", VALID, ids=lambda case: case.body)
def test_filter_corpus_renders_each_filtered_value(case):
    assert render(case.body, case.values) == case.text


@pytest.mark.parametrize("case", INVALID, ids=lambda case: case.body)
def test_filter_corpus_wrong_filters_stay_literal_and_free_text_sends_refuse_them(case):
    values = {"name": "Asha", "city": "Pune", "amount": "5", "code": "12", "due": "2024-05-01"}
    assert render(case.body, values) == case.body
    assert case.hint in first_malformed_variable(case.body)


def test_filters_apply_to_the_mapped_value_and_to_the_mapping_default():
    body = "Hi {{name|default:'there'|capitalize}} from {{city|upcase}}"
    mapping = {"name": {"source": "first_name"}, "city": {"source": "attributes.city", "default": "your city"}}
    text, values = render_for_contact(body, {"first_name": "aSHA", "attributes": {}}, mapping)
    assert (text, values) == ("Hi Asha from YOUR CITY", {"name": "aSHA", "city": "your city"})
    assert (
        render_for_contact(body, {"first_name": "", "attributes": {"city": "pune"}}, mapping)[0] == "Hi There from PUNE"
    )


def test_a_body_compiles_each_distinct_chain_once_and_plain_bodies_use_no_chain():
    compiled = compile_body("{{a|upcase}} {{a}} {{a|upcase}} {{b | strip}}")
    assert compiled.variables == ("a", "a", "a", "b")
    assert compiled.expressions == ("a|upcase", "a", "a|upcase", "b | strip")
    assert [expression for expression, *_ in compiled.chains] == ["a|upcase", "a", "b | strip"]
    assert compile_body("Hi {{a}} {{b}}").chains == ()
    values = {"a": "x"}
    assert compile_body("Hi {{a}} {{b}}").outputs(values) is values


def test_a_value_a_filter_cannot_take_fails_naming_the_variable():
    with pytest.raises(FilterFailure, match=r"^\{\{points\|plus:5\}\}: 'many' is not a number$"):
        render("You have {{points|plus:5}} points", {"points": "many"})


def test_variables_whose_every_use_has_a_default_need_no_value():
    assert required_variables("Hi {{name|default:'there'}}, order {{order}}") == ["order"]
    assert required_variables("Hi {{name|default:'there'}} {{name}}") == ["name"]
    assert required_variables("Hi {{name|upcase|default:'X'}}") == []
    assert variables_in("Hi {{name|default:'there'}}, order {{order|upcase}}") == ["name", "order"]
