"""The variable grammar (campaigns/variables.py) and the agreement of the rules, the renderer and the matcher on it."""

import pytest

from campaigns.matching import compile_template
from campaigns.rendering import compile_body
from campaigns.template_rules import validate_template
from campaigns.variables import (
    braced,
    first_malformed_variable,
    malformed_variables,
    parse_body,
    variable_names,
)

# (body, variable names, malformed tokens)
GRAMMAR = [
    ("Dear {{name}}, order {{order_id2}}.", ["name", "order_id2"], []),
    ("{{a}}{{B_1}}", ["a", "B_1"], []),
    ("Dear {{ name }}, hi", [], ["{{ name }}"]),
    ("Dear {{name }}, hi", [], ["{{name }}"]),
    ("Dear {{1x}}, hi", [], ["{{1x}}"]),
    ("Dear {{_x}}, hi", [], ["{{_x}}"]),
    ("Dear {{first-name}}, hi", [], ["{{first-name}}"]),
    ("Dear {{}}, hi", [], ["{{}}"]),
    ("Dear {name}, hi", [], ["{name}"]),
    ("Dear {#var#}, hi", [], ["{#var#}"]),
    ("Dear {{name, hi", [], ["{{"]),
    ("Dear name}}, hi", [], ["}}"]),
    ("Price } or {", [], ["}", "{"]),
    ("Price { or }", [], ["{ or }"]),
    ("Dear {{{name}}}, hi", [], ["{{{name}}}"]),
    ("Dear {{name}}}, hi", [], ["{{name}}}"]),
    ("Dear {{name}, hi", [], ["{{name}"]),
    ("Dear {{ {{name}} }}, hi", ["name"], ["{{", "}}"]),
    ("Dear {{na\nme}}, hi", [], ["{{", "}}"]),
    ("नमस्ते {{नाम}}", [], ["{{नाम}}"]),
    ("Dear {{Émile}}, hi", [], ["{{Émile}}"]),
    ("नमस्ते {{name}}, स्वागत", ["name"], []),
    ("No variables at all.", [], []),
]


@pytest.mark.parametrize(("body", "names", "malformed"), GRAMMAR)
def test_grammar(body, names, malformed):
    parsed = parse_body(body)
    assert [variable.name for variable in parsed.variables] == names
    assert [token.token for token in parsed.malformed] == malformed
    assert [body[token.start : token.end] for token in parsed.malformed] == malformed
    assert [body[v.start : v.end] for v in parsed.variables] == [braced(name) for name in names]
    assert (first_malformed_variable(body) is None) is (not malformed)


@pytest.mark.parametrize(("body", "names", "malformed"), GRAMMAR)
def test_fixed_runs_and_variables_give_the_body_back(body, names, malformed):
    parsed = parse_body(body)
    pairs = zip(parsed.variables, parsed.fixed[1:], strict=True)
    rebuilt = parsed.fixed[0] + "".join(braced(variable.name) + text for variable, text in pairs)
    assert rebuilt == body
    assert all(token.token in "".join(parsed.fixed) for token in parsed.malformed)


def test_names_are_distinct_in_order_of_first_appearance():
    assert variable_names("{{b}} {{a}} {{b}} {{ c }} {{1x}}") == ["b", "a"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Hi {{ name }} there", "Remove the spaces inside {{ name }}: write {{name}}."),
        ("Hi {name} there", "{name} uses single braces: write {{name}}."),
        ("Hi {{{name}}} there", "{{{name}}} does not have two braces on each side: write {{name}}."),
        (
            "Hi {{1x}} there",
            "{{1x}} is not a variable: a name starts with a letter (A-Z, a-z), then letters, digits or _.",
        ),
        ("Hi {{}} there", "{{}} is an empty variable: write a name inside, e.g. {{name}}."),
        ("Hi {{name there", "A lone '{{': write variables as {{name}}."),
        ("Hi {#var#} there", "Write variables as {{name}}; {#var#} is added when exporting to DLT."),
        (
            "Hi {{ok}} then {x y} and {{ z }}",
            "{x y} is not a variable: a name starts with a letter (A-Z, a-z), then letters, digits or _.",
        ),
        ("Hi {{ok}} there", None),
    ],
)
def test_first_malformed_variable_names_the_token(body, message):
    assert first_malformed_variable(body) == message


@pytest.mark.parametrize(("body", "names", "malformed"), GRAMMAR)
def test_rules_renderer_and_matcher_give_one_answer(body, names, malformed):
    """Rules flag exactly the grammar's malformed tokens; renderer and matcher see exactly its variables."""
    findings = validate_template(body, template_type="P", is_english=False)
    flagged = [(f.start, f.end) for f in findings if f.code == "malformed_variable"]
    assert flagged == [(token.start, token.end) for token in malformed_variables(body)]
    compiled = compile_body(body)
    assert compiled.variables == tuple(names)
    rendered = compiled.render(dict.fromkeys(names, "«value»"))
    assert all(token in rendered for token in malformed)
    assert rendered.count("«value»") == len(names)
    assert compile_template(1, body, 30).names == tuple(names)


def test_a_filtered_variable_has_its_name_its_filters_and_their_spans():
    body = "Hi {{name|default:'there' | truncate:12,'..'}}!"
    [variable] = parse_body(body).variables
    assert (variable.name, variable.expression) == ("name", "name|default:'there' | truncate:12,'..'")
    assert body[variable.start : variable.end] == "{{name|default:'there' | truncate:12,'..'}}"
    default, truncate = variable.filters
    assert (default.name, default.values, body[default.start : default.end]) == (
        "default",
        ("there",),
        "default:'there'",
    )
    assert (truncate.name, truncate.values) == ("truncate", (12, ".."))
    assert [body[a.start : a.end] for a in truncate.arguments] == ["12", "'..'"]


def test_a_variable_with_a_wrong_filter_is_listed_apart_from_malformed_tokens():
    body = "Hi {{name|upper}} and {name}"
    parsed = parse_body(body)
    assert parsed.variables == ()
    assert [token.token for token in parsed.malformed] == ["{name}"]
    [bad] = parsed.bad_filters
    assert (bad.token, body[bad.problem.start : bad.problem.end]) == ("{{name|upper}}", "upper")
    assert first_malformed_variable(body).startswith("{{name|upper}}: Unknown filter 'upper' (did you mean upcase?)")


@pytest.mark.parametrize(
    ("token", "hint"),
    [
        ("{{ name|upcase }}", "Remove the spaces inside {{ name|upcase }}: write {{name|upcase}}"),
        ("{name|upcase}", "{name|upcase} uses single braces: write {{name|upcase}}"),
        ("{{{name|upcase}}}", "{{{name|upcase}}} does not have two braces on each side: write {{name|upcase}}"),
    ],
)
def test_malformed_filtered_variables_get_the_same_hints(token, hint):
    assert first_malformed_variable(f"Hi {token} there") == f"{hint}."
