from decimal import Decimal
from types import SimpleNamespace

import pytest

from campaigns.models import Price
from campaigns.pricing import price_list
from campaigns.rendering import fields_needed, render, render_for_contact, values_for, variables_in
from campaigns.sending.planning import encode


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
