import pytest

from campaigns.matching import TemplateMatcher, match_message
from campaigns.models import BlockedTemplate, Sender, SenderStatus, Template, TemplateStatus
from campaigns.variables import parse_body
from tests.campaigns.filter_corpus import INVALID, VALID

OTP = "Your Acme OTP is {{otp}}. Do not share it."


def matcher(*bodies, max_length=30):
    return TemplateMatcher(list(enumerate(bodies, start=1)), max_length=max_length)


@pytest.mark.parametrize(
    ("bodies", "text", "template", "values"),
    [
        ([OTP], "Your Acme OTP is 482913. Do not share it.", 1, {"otp": "482913"}),
        (["{{name}}, your Acme order shipped."], "Asha, your Acme order shipped.", 1, {"name": "Asha"}),
        (["Your Acme order ships on {{date}}"], "Your Acme order ships on 12 March", 1, {"date": "12 March"}),
        (["Acme code {{a}}{{b}} done"], "Acme code XY done", 1, {"a": "X", "b": "Y"}),
        (["Hello {{name}} from Acme"], "Hello Mr. Rao from Acme", 1, {"name": "Mr. Rao"}),
        (["Acme says:\n{{line}}\nBye"], "Acme says:\nmulti word\nBye", 1, {"line": "multi word"}),
        (["नमस्ते {{name}}, Acme में स्वागत है"], "नमस्ते आशा, Acme में स्वागत है", 1, {"name": "आशा"}),
        (["Hi {{name}}", "Hi {{name}}, welcome to Acme"], "Hi Asha, welcome to Acme", 2, {"name": "Asha"}),
    ],
)
def test_matches_fixed_text_and_captures_variables(bodies, text, template, values):
    result = matcher(*bodies).match(text)
    assert result.matched
    assert (result.template, result.values) == (template, values)


@pytest.mark.parametrize(
    "text",
    [
        "Your Acme OTP is . Do not share it.",
        "Your Acme OTP is 482913. Do not share it",
        "Your Acme OTP is 482913. Do not share it. Thanks",
        "your Acme OTP is 482913. Do not share it.",
    ],
)
def test_fixed_text_must_match_exactly_and_variables_are_not_empty(text):
    assert not matcher(OTP).match(text).matched


def test_value_at_the_limit_matches_and_over_the_limit_does_not():
    assert matcher(OTP, max_length=30).match(f"Your Acme OTP is {'9' * 30}. Do not share it.").matched
    result = matcher(OTP, max_length=30).match(f"Your Acme OTP is {'9' * 31}. Do not share it.")
    assert not result.matched
    assert "31 characters" in result.difference.reason
    assert result.closest == 1


def test_limit_comes_from_settings(settings):
    settings.TEMPLATE_VARIABLE_MAX_LENGTH = 5
    text = "Your Acme OTP is 123456. Do not share it."
    assert not TemplateMatcher([(1, OTP)]).match(text).matched
    settings.TEMPLATE_VARIABLE_MAX_LENGTH = 6
    assert TemplateMatcher([(1, OTP)]).match(text).matched


def test_no_match_names_the_closest_template_and_the_first_difference():
    compiled = matcher("Your Acme order {{id}} has shipped.", OTP, "Welcome to Acme, {{name}}!")
    result = compiled.match("Your Acme OTP is 482913. Do not share it!")
    assert not result.matched
    assert result.closest == 2
    assert result.difference.position == len("Your Acme OTP is 482913. Do not share it")
    assert result.difference.expected.startswith(".")


def test_special_regex_characters_in_fixed_text_are_literal():
    compiled = matcher("Pay $5 (approx.) at acme.com/{{code}} [now]")
    assert compiled.match("Pay $5 (approx.) at acme.com/AB12 [now]").matched
    assert not compiled.match("Pay $5 (approxX) at acme.com/AB12 [now]").matched


def test_many_templates_sharing_words_still_find_the_right_one():
    bodies = [f"Dear {{{{name}}}}, your Acme plan {n} renews on {{{{date}}}}." for n in range(500)]
    result = matcher(*bodies).match("Dear Asha, your Acme plan 321 renews on 1 May.")
    assert result.template == 322
    assert result.values == {"name": "Asha", "date": "1 May"}


def test_malformed_variables_in_a_template_are_literal_fixed_text():
    """`{{ name }}` is not a variable for the rules (the template can't be approved) nor for the matcher."""
    compiled = matcher("Dear {{ name }}, your Acme order {{order}} {shipped}.")
    assert compiled.compiled[0].names == ("order",)
    literal = compiled.match("Dear {{ name }}, your Acme order 42 {shipped}.")
    assert (literal.template, literal.values) == (1, {"order": "42"})
    rendered = compiled.match("Dear Asha, your Acme order 42 shipped.")
    assert not rendered.matched and rendered.closest == 1
    assert rendered.difference.expected.startswith("{{ name }}")


@pytest.mark.parametrize("case", VALID, ids=lambda case: case.body)
def test_filter_corpus_rendered_texts_match_their_template(case):
    """A filtered variable is a variable like any other: its rendered value is captured under its name."""
    result = matcher(case.body).match(case.text)
    assert result.matched
    names = {variable.name for variable in parse_body(case.body).variables}
    assert set(result.values) == names


@pytest.mark.parametrize("case", INVALID, ids=lambda case: case.body)
def test_filter_corpus_wrong_filters_are_literal_fixed_text(case):
    compiled = matcher(case.body)
    assert compiled.compiled[0].names == ()
    assert compiled.match(case.body).matched


def test_a_filtered_variable_matches_1_to_30_characters():
    compiled = matcher("Dear {{name|default:'there'|upcase}}, your Acme order is ready.", max_length=30)
    assert compiled.match(f"Dear {'N' * 30}, your Acme order is ready.").values == {"name": "N" * 30}
    over = compiled.match(f"Dear {'N' * 31}, your Acme order is ready.")
    assert not over.matched
    assert "the value of {{name}} has 31 characters" in over.difference.reason
    assert not compiled.match("Dear , your Acme order is ready.").matched


def test_no_templates_gives_a_reason():
    result = TemplateMatcher([]).match("anything")
    assert not result.matched and result.reason


# --- Django-facing matcher ---------------------------------------------------------------------------------


@pytest.fixture
def senders(account):
    approved = dict(status=SenderStatus.APPROVED, country_code="IN", entity_id="1201159876543210987")
    return (
        Sender.objects.create(account=account, name="ACMEIN", **approved),
        Sender.objects.create(account=account, name="ACMEOT", **approved),
    )


def make_template(account, sender, body, status=TemplateStatus.APPROVED, **fields):
    alias = fields.pop("alias", f"t-{Template.objects.count() + 1}")
    return Template.objects.create(
        account=account, sender=sender, name=alias, alias=alias, body=body, template_type="SI", status=status, **fields
    )


@pytest.mark.django_db
def test_match_message_returns_the_template_object(account, senders):
    template = make_template(account, senders[0], OTP)
    result = match_message(account, senders[0], "Your Acme OTP is 1234. Do not share it.")
    assert result.template == template
    assert result.values == {"otp": "1234"}


@pytest.mark.django_db
def test_other_senders_template_does_not_match(account, senders):
    make_template(account, senders[1], OTP)
    result = match_message(account, senders[0], "Your Acme OTP is 1234. Do not share it.")
    assert not result.matched
    assert "no approved templates" in result.reason


@pytest.mark.django_db
def test_other_accounts_template_does_not_match(account, other_account, senders):
    foreign_sender = Sender.objects.create(account=other_account, name="OTHERS", country_code="GB", status=1)
    make_template(other_account, foreign_sender, OTP)
    assert not match_message(account, senders[0], "Your Acme OTP is 1234. Do not share it.").matched


@pytest.mark.django_db
@pytest.mark.parametrize("by", ["dlt_template_id", "uid"])
def test_blocked_template_never_matches(account, senders, by):
    template = make_template(account, senders[0], OTP, dlt_template_id="1107161234567890123")
    text = "Your Acme OTP is 1234. Do not share it."
    assert match_message(account, senders[0], text).matched
    BlockedTemplate.objects.create(account=account, template_id=str(getattr(template, by)))
    assert not match_message(account, senders[0], text).matched


@pytest.mark.django_db
def test_inactive_block_does_not_stop_matching(account, senders):
    make_template(account, senders[0], OTP, dlt_template_id="1107161234567890123")
    BlockedTemplate.objects.create(account=account, template_id="1107161234567890123", status=0)
    assert match_message(account, senders[0], "Your Acme OTP is 1234. Do not share it.").matched


@pytest.mark.django_db
@pytest.mark.parametrize("status", [TemplateStatus.PENDING, TemplateStatus.REJECTED])
def test_only_approved_templates_match(account, senders, status):
    make_template(account, senders[0], OTP, status=status)
    assert not match_message(account, senders[0], "Your Acme OTP is 1234. Do not share it.").matched


@pytest.mark.django_db
def test_unapproved_sender_never_matches(account, senders):
    make_template(account, senders[0], OTP)
    Sender.objects.filter(pk=senders[0].pk).update(status=SenderStatus.PENDING)
    senders[0].refresh_from_db()
    assert match_message(account, senders[0], "Your Acme OTP is 1234. Do not share it.").reason


@pytest.mark.django_db
def test_compiled_cache_follows_template_changes(account, senders):
    template = make_template(account, senders[0], OTP)
    text = "Your Acme OTP is 1234. Do not share it."
    assert match_message(account, senders[0], text).matched
    template.body = "Your Acme code is {{otp}}. Do not share it."
    template.save()
    assert not match_message(account, senders[0], text).matched
    assert match_message(account, senders[0], "Your Acme code is 1234. Do not share it.").matched


@pytest.mark.django_db
def test_changes_made_by_other_processes_are_seen_after_the_recheck_interval(account, senders, monkeypatch):
    from django.utils import timezone

    from campaigns import matching

    monkeypatch.setattr(matching, "RECHECK_SECONDS", 3600)
    template = make_template(account, senders[0], OTP, dlt_template_id="1107161234567890123")
    text = "Your Acme OTP is 1234. Do not share it."
    assert match_message(account, senders[0], text).matched
    BlockedTemplate.objects.bulk_create([BlockedTemplate(account=account, template_id="1107161234567890123")])
    assert match_message(account, senders[0], text).matched, "within the interval the compiled copy is used"
    monkeypatch.setattr(matching, "RECHECK_SECONDS", 0)
    assert not match_message(account, senders[0], text).matched
    BlockedTemplate.objects.all().delete()
    Template.objects.filter(pk=template.pk).update(body="Your Acme PIN is {{pin}}.", updated_at=timezone.now())
    assert match_message(account, senders[0], "Your Acme PIN is 99.").matched


@pytest.mark.django_db
def test_usable_templates_exclude_blocked_by_either_id(account, senders):
    first = make_template(account, senders[0], OTP, dlt_template_id="1107000000000000001")
    second = make_template(account, senders[0], "Acme order {{id}} shipped.")
    BlockedTemplate.objects.create(account=account, template_id="1107000000000000001")
    BlockedTemplate.objects.create(account=account, template_id=str(second.uid))
    assert list(Template.objects.for_account(account).usable()) == []
    assert first.is_blocked() and second.is_blocked()
    BlockedTemplate.objects.update(status=0)
    assert set(Template.objects.for_account(account).usable()) == {first, second}
