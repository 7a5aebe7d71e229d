import pytest

from campaigns.template_rules import (
    ERROR,
    RULES,
    WARNING,
    AccountFacts,
    extract_variables,
    has_errors,
    parse_body,
    to_dlt_body,
    validate_template,
)
from tests.campaigns.filter_corpus import INVALID, VALID

BOLD = "\U0001d401\U0001d428\U0001d425\U0001d41d"  # "Bold" in Mathematical Bold letters
GOOD_SI = "Dear {{name}}, your Acme order {{order}} has shipped."
BANK = AccountFacts(entity_type="bank", brand_names=("Acme",))
ENTERPRISE = AccountFacts(entity_type="enterprise", brand_names=("Acme",))


def codes(body, *, template_type="SI", is_english=True, facts=ENTERPRISE, name=None, sender=None, country=None):
    findings = validate_template(
        body,
        template_type=template_type,
        is_english=is_english,
        facts=facts,
        name=name,
        sender=sender,
        sender_country=country,
    )
    return {f.code for f in findings}


PROMO = "Big Acme sale today. To opt-out, send STOP to 567890."
# (code, body, options, expected): every rule code has at least one positive and one negative case.
CASES = [
    ("double_space", "Dear  {{name}}, your Acme order is ready.", {}, True),
    ("double_space", "Dear {{name}},\nyour Acme order  is ready.", {}, True),
    ("double_space", GOOD_SI, {}, False),
    ("leading_space", " Dear {{name}}, your Acme order is ready.", {}, True),
    ("leading_space", "Dear {{name}},\n your Acme order is ready.", {}, True),
    ("leading_space", "Dear {{name}},\nyour Acme order is ready.", {}, False),
    ("trailing_space", "Dear {{name}}, your Acme order is ready. ", {}, True),
    ("trailing_space", "Dear {{name}}, \nyour Acme order is ready.", {}, True),
    ("trailing_space", GOOD_SI, {}, False),
    ("angle_bracket", "Dear {{name}}, <b>Acme</b> order ready.", {}, True),
    ("angle_bracket", "Dear {{name}}, your Acme order -> ready.", {}, True),
    ("angle_bracket", GOOD_SI, {}, False),
    ("malformed_variable", "Dear {{ name }}, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear {{1x}}, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear {{name, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear name}}, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear {name}, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear {#var#}, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear {{first-name}}, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear {{first_name2}}, your Acme order is ready.", {}, False),
    ("malformed_variable", "Dear {{{name}}}, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear {{}}, your Acme order is ready.", {}, True),
    ("malformed_variable", "Dear {{नाम}}, your Acme order is ready.", {"is_english": False}, True),
    ("bad_filter", "Dear {{name|upper}}, your Acme order is ready.", {}, True),
    ("bad_filter", "Dear {{name|default}}, your Acme order is ready.", {}, True),
    ("bad_filter", "Dear {{name|default:'there'|upcase}}, your Acme order is ready.", {}, False),
    ("missing_variable", "Your Acme order has shipped today.", {"template_type": "SI"}, True),
    ("missing_variable", "Your Acme order has shipped today.", {"template_type": "T", "facts": BANK}, True),
    ("missing_variable", "Your Acme order has shipped today.", {"template_type": "SE"}, True),
    ("missing_variable", "Big Acme sale today. To opt-out, send STOP to 5656.", {"template_type": "P"}, False),
    ("missing_variable", GOOD_SI, {}, False),
    ("too_few_fixed_chars", "Hi {{name}} {{code}}", {}, True),
    ("too_few_fixed_chars", "Hi to {{name}}", {}, True),
    ("too_few_fixed_chars", "Hello to {{name}}", {"facts": AccountFacts()}, False),
    ("only_variables", "{{greeting}} {{name}}", {}, True),
    ("only_variables", "{{greeting}}\n{{name}}", {}, True),
    ("only_variables", "Hi {{name}}", {}, False),
    ("empty_body", "   ", {}, True),
    ("empty_body", GOOD_SI, {}, False),
    ("styled_font", f"Dear {{{{name}}}}, your {BOLD} Acme order.", {}, True),
    ("styled_font", f"प्रिय {{{{name}}}}, आपका {BOLD} Acme ऑर्डर।", {"is_english": False}, True),
    ("styled_font", GOOD_SI, {}, False),
    ("emoji", "Dear {{name}}, your Acme order 🎉 shipped.", {}, True),
    ("emoji", "प्रिय {{name}}, आपका Acme ऑर्डर 🎉", {"is_english": False}, True),
    ("emoji", "Dear {{name}}, your Acme order ❤️ shipped.", {}, True),
    ("emoji", "प्रिय {{name}}, आपका Acme ऑर्डर भेज दिया गया है।", {"is_english": False}, False),
    ("non_keyboard_character", "Dear {{name}}, your “Acme” order shipped.", {}, True),
    ("non_keyboard_character", "Dear {{name}}, your Acme order… shipped.", {}, True),
    ("non_keyboard_character", "Dear {{name}}, your Acme order costs £5 or €5.", {}, False),
    ("non_keyboard_character", "Dear {{name}}, your “Acme” order shipped.", {"is_english": False}, False),
    ("unicode_in_english", "प्रिय {{name}}, आपका Acme ऑर्डर भेज दिया गया है।", {}, True),
    ("unicode_in_english", "Dear {{name}}, your `Acme` order shipped.", {}, True),
    ("unicode_in_english", "Dear {{name}}, your Acme order ÄÖÑÜ shipped.", {}, False),
    ("transactional_not_bank", "Your Acme OTP is {{otp}}.", {"template_type": "T"}, True),
    ("transactional_not_bank", "Your Acme OTP is {{otp}}.", {"template_type": "T", "facts": BANK}, False),
    ("transactional_not_bank", "Your Acme OTP is {{otp}}.", {"template_type": "SI"}, False),
    ("consent_template_missing", GOOD_SI, {"template_type": "SE"}, True),
    (
        "consent_template_missing",
        GOOD_SI,
        {"template_type": "SE", "facts": AccountFacts(has_consent_template=True, brand_names=("Acme",))},
        False,
    ),
    (
        "duplicate_body_other_sender",
        GOOD_SI,
        {"facts": AccountFacts(other_bodies_by_sender={"OTHERS": [GOOD_SI]}), "sender": "ACMEIN"},
        True,
    ),
    (
        "duplicate_body_other_sender",
        GOOD_SI,
        {"facts": AccountFacts(other_bodies_by_sender={"OTHERS": ["Something else {{x}}"]}), "sender": "ACMEIN"},
        False,
    ),
    ("generic_name", GOOD_SI, {"name": "Test2"}, True),
    ("generic_name", GOOD_SI, {"name": "template 1"}, True),
    ("generic_name", GOOD_SI, {"name": "SMS"}, True),
    ("generic_name", GOOD_SI, {"name": "sample_3"}, True),
    ("generic_name", GOOD_SI, {"name": "Order shipped"}, False),
    ("generic_name", GOOD_SI, {"name": "Test drive booking"}, False),
    ("hardcoded_value", "Dear {{name}}, your Acme order 123456 has shipped.", {}, True),
    ("hardcoded_value", "Dear {{name}}, pay Rs. 500 to Acme today.", {}, True),
    ("hardcoded_value", "Dear {{name}}, your Acme order ships on 12/03/2025.", {}, True),
    ("hardcoded_value", "Dear {{name}}, see www.acme.com/orders for details.", {}, True),
    ("hardcoded_value", "Dear {{name}}, write to help@acme.com for Acme help.", {}, True),
    (
        "hardcoded_value",
        "Big Acme sale 50% off 12/03/2025. To opt-out, send STOP to 5656.",
        {"template_type": "P"},
        False,
    ),
    ("hardcoded_value", "Dear {{name}}, your Acme order {{order}} is 12 days late.", {}, False),
    ("missing_opt_out", "Big Acme sale today, visit our store {{store}}.", {"template_type": "P"}, True),
    ("missing_opt_out", "Big Acme sale today. To opt-out, send STOP to 5656.", {"template_type": "P"}, False),
    ("missing_opt_out", GOOD_SI, {}, False),
    ("missing_brand_name", "Dear {{name}}, your order {{order}} has shipped.", {}, True),
    ("missing_brand_name", "Dear {{name}}, your ACME order {{order}} has shipped.", {}, False),
    ("missing_brand_name", "Dear {{name}}, your order {{order}} has shipped.", {"facts": AccountFacts()}, False),
    ("url_with_query", "Dear {{name}}, track Acme at https://acme.com/t?id=1 now.", {}, True),
    ("url_with_query", "Dear {{name}}, track Acme at https://acme.com/track now.", {}, False),
    ("cta_variable", "Dear {{name}}, track your Acme order at {{tracking_link}}", {}, True),
    ("cta_variable", "Dear {{name}}, your Acme order: https://acme.com/{{code}}", {}, True),
    ("cta_variable", "Dear {{name}}, for Acme help call us at {{helpline}}", {}, True),
    ("cta_variable", GOOD_SI, {}, False),
    ("legacy_service_explicit", GOOD_SI, {"template_type": "SE"}, True),
    ("legacy_service_explicit", GOOD_SI, {"template_type": "SI"}, False),
    ("promotional_alpha_header", PROMO, {"template_type": "P", "sender": "ACMEBK", "country": "IN"}, True),
    ("promotional_alpha_header", PROMO, {"template_type": "P", "sender": "567890", "country": "IN"}, False),
    ("promotional_alpha_header", PROMO, {"template_type": "P", "sender": "ACMEUK", "country": "GB"}, False),
    ("promotional_alpha_header", GOOD_SI, {"sender": "ACMEBK", "country": "IN"}, False),
]


@pytest.mark.parametrize(("code", "body", "options", "expected"), CASES)
def test_rule(code, body, options, expected):
    assert (code in codes(body, **options)) is expected


def test_every_rule_code_has_positive_and_negative_cases():
    positive = {code for code, *_, expected in CASES if expected}
    negative = {code for code, *_, expected in CASES if not expected}
    assert positive == set(RULES) == negative


def test_a_clean_template_has_no_findings():
    assert validate_template(GOOD_SI, template_type="SI", is_english=True, facts=ENTERPRISE) == []


@pytest.mark.parametrize("code", sorted(RULES))
def test_severities_follow_rules_md(code):
    assert RULES[code][0] in (ERROR, WARNING)


def test_double_space_span_points_at_the_spaces():
    body = "Dear {{name}},\nyour  Acme order is ready."
    [found] = [f for f in validate_template(body, template_type="SI", is_english=True) if f.code == "double_space"]
    assert body[found.start : found.end] == "  "
    assert (found.start, found.end) == (19, 21)
    assert "line 2, column 5" in found.message


def test_single_line_message_gives_the_position():
    [found] = [
        f
        for f in validate_template("Hi  {{n}} from Acme", template_type="P", is_english=True)
        if f.code == "double_space"
    ]
    assert "position 3" in found.message


def test_styled_font_run_is_one_finding_with_its_span():
    body = f"Dear {{{{name}}}}, {BOLD} Acme news."
    [found] = [f for f in validate_template(body, template_type="SI", is_english=True) if f.code == "styled_font"]
    assert body[found.start : found.end] == BOLD


def test_malformed_variable_span_and_hint():
    body = "Dear {{ name }}, your Acme order is ready."
    [found] = [
        f for f in validate_template(body, template_type="SI", is_english=True) if f.code == "malformed_variable"
    ]
    assert body[found.start : found.end] == "{{ name }}"
    assert found.message == "Remove the spaces inside {{ name }}: write {{name}} (at position 6)."
    assert extract_variables(body) == []


def test_generic_name_finding_is_on_the_name_field():
    [found] = [
        f
        for f in validate_template(GOOD_SI, template_type="SI", is_english=True, name="Test 3")
        if f.code == "generic_name"
    ]
    assert found.field == "name"


def test_warnings_do_not_block():
    findings = validate_template(
        "Dear {{name}}, your order {{order}} has shipped.", template_type="SI", is_english=True, facts=ENTERPRISE
    )
    assert [f.code for f in findings] == ["missing_brand_name"]
    assert not has_errors(findings)


def test_errors_come_before_warnings():
    findings = validate_template(
        "Dear  {{name}}, order 123456 shipped.", template_type="SI", is_english=True, facts=ENTERPRISE
    )
    severities = [f.severity for f in findings]
    assert severities == sorted(severities, key=lambda s: s != ERROR)


def test_minimum_fixed_characters_is_a_setting(settings):
    settings.TEMPLATE_MIN_FIXED_CHARS = 25
    assert "too_few_fixed_chars" in codes("Dear {{name}}, Acme order ready.")
    settings.TEMPLATE_MIN_FIXED_CHARS = 3
    assert "too_few_fixed_chars" not in codes("Hi to {{name}}", facts=AccountFacts())


def test_unicode_template_accepts_letters_of_any_script():
    body = "प्रिय {{name}}, आपका Acme ऑर्डर {{order}} भेज दिया गया है।"
    assert validate_template(body, template_type="SI", is_english=False, facts=ENTERPRISE) == []


def test_variable_extraction_in_order_without_duplicates():
    assert extract_variables("{{a}} and {{b}} then {{a}} {{ c }} {{1x}}") == ["a", "b"]


def test_parse_body_keeps_fixed_text_around_variables():
    parsed = parse_body("{{a}}x{{b}}")
    assert parsed.fixed == ("", "x", "")
    assert [v.name for v in parsed.variables] == ["a", "b"]


def test_dlt_export_body_uses_var_placeholders():
    assert to_dlt_body("Dear {{name}}, OTP {{otp}}.") == "Dear {#var#}, OTP {#var#}."


VARIABLE_CODES = ("bad_filter", "malformed_variable")


@pytest.mark.parametrize("case", VALID, ids=lambda case: case.body)
def test_filter_corpus_valid_bodies_have_no_variable_findings(case):
    findings = validate_template(case.body, template_type="P", is_english=True)
    assert [f.code for f in findings if f.code in VARIABLE_CODES] == []


@pytest.mark.parametrize("case", INVALID, ids=lambda case: case.body)
def test_filter_corpus_invalid_bodies_are_errors_underlining_the_fault(case):
    """The live lint, the validate API and saving all use these findings: each underlines exactly the fault."""
    findings = [f for f in validate_template(case.body, template_type="P", is_english=True) if f.code in VARIABLE_CODES]
    assert [(f.code, case.body[f.start : f.end]) for f in findings] == list(case.findings)
    assert all(f.severity == ERROR and f.field == "body" for f in findings)
    assert case.hint in findings[0].message
    assert has_errors(findings)


def test_bad_filter_message_names_the_position_and_the_filters():
    body = "Dear {{name|upper}},\nyour Acme order is ready."
    [found] = [f for f in validate_template(body, template_type="P", is_english=True) if f.code == "bad_filter"]
    assert found.message.startswith("Unknown filter 'upper' (did you mean upcase?); the filters are append, ")
    assert found.message.endswith("(at line 1, column 13).")


def test_filtered_variables_are_extracted_by_name_and_exported_as_dlt_placeholders():
    body = "Dear {{name|default:'there'|capitalize}}, OTP {{otp|strip}} for {{name}}."
    assert extract_variables(body) == ["name", "otp"]
    assert to_dlt_body(body) == "Dear {#var#}, OTP {#var#} for {#var#}."


def test_filter_arguments_are_masked_from_the_value_warnings():
    """A date format or a number inside a variable's braces is not fixed text that looks like a value."""
    body = "Dear {{name}}, your Acme order ships on {{due|date_format:'d/m/Y'}} with {{n|plus:1000}} points."
    assert "hardcoded_value" not in codes(body)
