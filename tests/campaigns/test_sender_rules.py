import pytest

from campaigns.sender_rules import normalize_sender_name, validate_sender, word_list

PE_ID = "1201159876543210987"


def findings_for(name, country="IN", service="ENT", entity_id=PE_ID, own_brands=()):
    name = normalize_sender_name(name, country)
    return validate_sender(name, country_code=country, service=service, entity_id=entity_id, own_brands=own_brands)


def codes(*args, **kwargs):
    return {f.code for f in findings_for(*args, **kwargs)}


@pytest.mark.parametrize(
    ("name", "country", "service", "entity_id", "code", "field"),
    [
        ("DEMO", "IN", "ENT", PE_ID, "in_transactional_format", "name"),
        ("DEMOMRT", "IN", "ENT", PE_ID, "in_transactional_format", "name"),
        ("DEM0MT", "IN", "ENT", PE_ID, "in_transactional_format", "name"),
        ("12345", "IN", "MKT", PE_ID, "in_promotional_format", "name"),
        ("DEMOMT", "IN", "MKT", PE_ID, "in_promotional_format", "name"),
        ("123456", "IN", "ENT", PE_ID, "in_numeric_not_promotional", "name"),
        ("DEMOMT", "IN", "ENT", "", "entity_id_required", "entity_id"),
        ("DEMOMT", "IN", "ENT", "PE-123", "entity_id_format", "entity_id"),
        ("AB", "GB", "ENT", "", "alphanumeric_length", "name"),
        ("ABCDEFGHIJKL", "GB", "ENT", "", "alphanumeric_length", "name"),
        ("Demo Mart", "GB", "ENT", "", "alphanumeric_characters", "name"),
        ("1234567890123456", "GB", "ENT", "", "numeric_too_long", "name"),
        ("DemoMart", "G", "ENT", "", "invalid_country", "country_code"),
        ("DemoMart", "XX", "ENT", "", "invalid_country", "country_code"),
        ("", "GB", "ENT", "", "name_required", "name"),
        ("١٢٣٤٥٦", "GB", "ENT", "", "alphanumeric_characters", "name"),
        ("١٢٣٤٥٦", "IN", "MKT", PE_ID, "in_promotional_format", "name"),
    ],
)
def test_format_errors_name_their_field(name, country, service, entity_id, code, field):
    errors = [f for f in findings_for(name, country, service, entity_id) if f.severity == "error"]
    assert code in {f.code for f in errors}
    assert next(f for f in errors if f.code == code).field == field


@pytest.mark.parametrize(
    ("name", "country", "service", "entity_id"),
    [
        ("DEMOMT", "IN", "ENT", PE_ID),
        ("demomt", "IN", "BNK", PE_ID),
        ("567890", "IN", "MKT", PE_ID),
        ("DemoMart", "GB", "ENT", ""),
        ("Dem", "US", "A2P", ""),
        ("123456789012345", "GB", "ENT", ""),
    ],
)
def test_valid_senders_have_no_errors(name, country, service, entity_id):
    assert [f for f in findings_for(name, country, service, entity_id) if f.severity == "error"] == []


def test_indian_alpha_senders_are_upper_cased():
    assert normalize_sender_name(" demomt ", "IN") == "DEMOMT"
    assert normalize_sender_name(" DemoMart ", "GB") == "DemoMart"


@pytest.mark.parametrize(
    ("name", "country", "code", "expected"),
    [
        ("OFFERS", "IN", "common_word", True),
        ("DEMOMT", "IN", "common_word", False),
        ("AMAZON", "IN", "third_party_brand", True),
        ("GoogleAds", "GB", "third_party_brand", True),
        ("DemoMart", "GB", "third_party_brand", False),
        ("Shop24", "GB", "digits_in_alpha", True),
        ("123456", "GB", "digits_in_alpha", False),
        ("DemoMart", "GB", "digits_in_alpha", False),
    ],
)
def test_warnings_from_word_lists(name, country, code, expected):
    found = [f for f in findings_for(name, country) if f.code == code]
    assert bool(found) is expected
    assert all(f.severity == "warning" for f in found)


def test_own_brand_is_not_a_third_party_brand():
    assert "third_party_brand" not in codes("PAYTMX", own_brands=("Paytm",))


def test_word_lists_are_data_files():
    assert "OFFERS" in word_list("sender_common_words")
    assert "AMAZON" in word_list("sender_brands")
    assert not any(word.startswith("#") for word in word_list("sender_brands"))
