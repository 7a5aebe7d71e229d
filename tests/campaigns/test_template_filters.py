"""Each filter's output (campaigns/template_filters.py), the values they refuse, and the grammar's details."""

import pytest

from campaigns.template_filters import FILTERS, FilterFailure, compile_filters, parse_filters, supplies_default


def apply(chain: str, value) -> str:
    filters, problem = parse_filters(chain)
    assert problem is None, problem
    return compile_filters(filters)(value)


@pytest.mark.parametrize(
    ("chain", "value", "output"),
    [
        ("|default:'there'", "", "there"),
        ("|default:'there'", None, "there"),
        ("|default:'there'", "  ", "there"),
        ("|default:'there'", "Asha", "Asha"),
        ("|default:5", "", "5"),
        ("|upcase", "asha rao", "ASHA RAO"),
        ("|downcase", "ASHA Rao", "asha rao"),
        ("|capitalize", "aSHA rao", "Asha rao"),
        ("|strip", "  a b  ", "a b"),
        ("|lstrip", "  a b  ", "a b  "),
        ("|rstrip", "  a b  ", "  a b"),
        ("|slice:-10", "+919876543210", "9876543210"),
        ("|slice:-3,3", "hello", "llo"),
        ("|slice:1,2", "hello", "el"),
        ("|slice:-10", "12345", "12345"),
        ("|slice:9", "hello", ""),
        ("|truncate:5", "Alexandra", "Al..."),
        ("|truncate:5,''", "Alexandra", "Alexa"),
        ("|truncate:5", "Asha", "Asha"),
        ("|truncate:2", "Alexandra", "..."),
        ("|append:'bar'", "foo", "foobar"),
        ("|prepend:'foo'", "bar", "foobar"),
        ("|append:' EUR'", "5", "5 EUR"),
        ("|plus:'1'", "1", "2"),
        ("|plus:1", "1", "2"),
        ("|plus:1", " 1.50 ", "2.50"),
        ("|plus:-2.5", "1", "-1.5"),
        ("|minus:2", "4", "2"),
        ("|times:4", "5", "20"),
        ("|times:2", "1.5", "3.0"),
        ("|divided_by:3", "10", "3"),
        ("|divided_by:3", "-7", "-3"),
        ("|divided_by:4", "10.0", "2.5"),
        ("|divided_by:3", "1.0", "0.3333333333"),
        ("|divided_by:3.0", "9", "3"),
        ("|modulo:2", "3", "1"),
        ("|round:2", "4.5612", "4.56"),
        ("|round", "4.5", "5"),
        ("|round:1", "2", "2.0"),
        ("|ceil", "4.6", "5"),
        ("|floor", "4.6", "4"),
        ("|floor", "-4.6", "-5"),
        ("|url_encode", "a b&c=d/é", "a%20b%26c%3Dd%2F%C3%A9"),
        ("|date_format:'d/m/Y'", "2024-05-01", "01/05/2024"),
        ("|date_format:'d/m/y'", "2024-05-01T10:30:00", "01/05/24"),
        ("|date_format:'j M Y, g:i A'", "2024-05-01 15:04:05", "1 May 2024, 3:04 PM"),
        ("|date_format:'l, F j \\a\\t H:i'", "2024-12-25T09:05:00+05:30", "Wednesday, December 25 at 09:05"),
        ("|date_format:'%d %b %Y %H:%M:%S'", "2024-05-01T14:05:09Z", "01 May 2024 14:05:09"),
        ("|date_format:'%-d/%-m %I%p %A %% done'", "2024-05-01T00:05", "1/5 12AM Wednesday % done"),
        ("|default:'there'|capitalize", "", "There"),
        ("|strip|upcase|prepend:'Hi '", "  asha ", "Hi ASHA"),
        ("|plus:5|times:2|append:' pts'", "10", "30 pts"),
        ("|date_format:'Y'|plus:1", "2024-05-01", "2025"),
        (" | upcase | slice: 0 , 2", "asha", "AS"),
    ],
)
def test_filter_outputs(chain, value, output):
    assert apply(chain, value) == output


@pytest.mark.parametrize(
    ("chain", "value", "message"),
    [
        ("|plus:1", "abc", "'abc' is not a number"),
        ("|plus:1", "", "'' is not a number"),
        ("|times:2", "1,000", "'1,000' is not a number"),
        ("|round:2", "NaN", "'NaN' is not a number"),
        ("|ceil", "1e5", "'1e5' is not a number"),
        ("|date_format:'d/m/Y'", "soon", "'soon' is not a date: give it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"),
        ("|date_format:'d/m/Y'", "01/05/2024", "'01/05/2024' is not a date"),
        ("|default:'x'|plus:1", "", "'x' is not a number"),
    ],
)
def test_values_a_filter_cannot_take_fail_with_a_clear_message(chain, value, message):
    with pytest.raises(FilterFailure, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        apply(chain, value)


def test_a_number_too_large_to_compute_fails_instead_of_raising_something_else():
    with pytest.raises(FilterFailure, match="too large"):
        apply("|round:10", "9" * 39)


def test_spans_are_offsets_in_the_body():
    body = "Hi {{n|plus: 2 |slice:-3,3}}"
    chain_start = body.index("|")
    filters, problem = parse_filters(body[chain_start : body.index("}}")], chain_start)
    assert problem is None
    plus, slice_ = filters
    assert body[plus.start : plus.end] == "plus: 2"
    assert [body[a.start : a.end] for a in slice_.arguments] == ["-3", "3"]
    assert slice_.values == (-3, 3)


def test_only_a_default_supplies_a_value():
    assert supplies_default(parse_filters("|upcase|default:'x'")[0])
    assert not supplies_default(parse_filters("|upcase")[0])


def test_the_filters_listed_in_the_brief_and_the_seed_exist():
    wanted = "default upcase downcase capitalize strip lstrip rstrip slice truncate date_format append prepend"
    wanted += " plus minus times divided_by modulo round ceil floor url_encode"
    assert set(wanted.split()) == set(FILTERS)
    for name, spec in FILTERS.items():
        example = spec.example.strip("{}")
        filters, problem = parse_filters(example[example.index("|") :])
        assert problem is None and filters[0].name == name, example
