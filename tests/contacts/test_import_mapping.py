"""Column mapping: header names and synonyms, header detection, overrides, attributes."""

from contacts.importing.mapping import (
    ATTRIBUTE,
    CONTACT_FIELDS,
    IGNORE,
    column_letter,
    normalize_header,
    plan_sheet,
)
from contacts.importing.readers import Row
from contacts.importing.safety import read_rows
from tests.contacts import import_files


def rows(*values_list, sheet="S"):
    return [Row(sheet, number, tuple(values)) for number, values in enumerate(values_list, start=1)]


def targets(mapping):
    return {column.header: column.target for column in mapping.columns}


def test_normalize_header_drops_case_accents_and_punctuation():
    assert normalize_header("  Téléphone-PORTABLE. ") == "telephone portable"
    assert normalize_header("E_mail") == "e mail"
    assert normalize_header(None) == ""


def test_english_synonyms_and_unknown_columns_to_attributes():
    mapping = plan_sheet(
        "S",
        rows(
            ["Mobile No.", "FName", "Surname", "Email Address", "Loyalty Tier"],
            ["+447400123456", "A", "B", "a@b.c", "Gold"],
        ),
        CONTACT_FIELDS,
    )
    assert targets(mapping) == {
        "Mobile No.": "phone",
        "FName": "first_name",
        "Surname": "last_name",
        "Email Address": "email",
        "Loyalty Tier": ATTRIBUTE,
    }
    assert mapping.header_row == 1
    assert mapping.columns[4].attribute == "loyalty_tier"


def test_other_languages_match_after_normalising():
    mapping = plan_sheet("S", rows(["Teléfono", "Nombre", "Apellidos"], ["600123456", "Ana", "Pérez"]), CONTACT_FIELDS)
    assert targets(mapping) == {"Teléfono": "phone", "Nombre": "first_name", "Apellidos": "last_name"}
    german = plan_sheet("S", rows(["Handynummer", "Vorname", "Nachname"], ["0151 2345678", "Jo", "M"]), CONTACT_FIELDS)
    assert targets(german)["Handynummer"] == "phone"
    hindi = plan_sheet("S", rows(["मोबाइल", "नाम"], ["9876543210", "राम"]), CONTACT_FIELDS)
    assert targets(hindi)["मोबाइल"] == "phone"


def test_a_synonym_inside_a_longer_header_matches_weaker_than_an_exact_one():
    mapping = plan_sheet(
        "S", rows(["Customer mobile number (with +)", "Phone"], ["+447400123456", "+447400123457"]), CONTACT_FIELDS
    )
    assert targets(mapping) == {"Customer mobile number (with +)": ATTRIBUTE, "Phone": "phone"}
    alone = plan_sheet("S", rows(["Customer mobile number (with +)", "X"], ["+447400123456", "1"]), CONTACT_FIELDS)
    assert targets(alone)["Customer mobile number (with +)"] == "phone"


def test_first_name_column_is_not_taken_by_full_name():
    mapping = plan_sheet("S", rows(["Phone", "First name", "Name"], ["+447400123456", "A", "A B"]), CONTACT_FIELDS)
    assert targets(mapping) == {"Phone": "phone", "First name": "first_name", "Name": "full_name"}


def test_headerless_single_column_is_the_phone():
    mapping = plan_sheet("", rows(["919876543210"], ["+44 7400 123456"]), CONTACT_FIELDS)
    assert mapping.header_row is None
    assert [(column.header, column.target) for column in mapping.columns] == [("A", "phone")]


def test_headerless_columns_find_the_phone_by_its_values():
    mapping = plan_sheet("", rows(["Ann", 447400123456.0], ["Bob", "07400 123457"]), CONTACT_FIELDS)
    assert [column.target for column in mapping.columns] == [ATTRIBUTE, "phone"]
    assert mapping.columns[0].attribute == "a"


def test_merged_title_row_above_the_header_is_skipped(tmp_path):
    path = import_files.xlsx_two_sheets(tmp_path / "c.xlsx")
    head = [row for chunk in read_rows(path) for row in chunk if row.sheet == "India"]
    mapping = plan_sheet("India", head, CONTACT_FIELDS)
    assert mapping.header_row == 2
    assert targets(mapping) == {
        "Mobile Number": "phone",
        "First Name": "first_name",
        "Last Name": "last_name",
        "E-mail": "email",
        "Loyalty Tier": ATTRIBUTE,
    }
    mapped = mapping.apply(head[2])
    assert mapped.number == 3
    assert mapped.fields["phone"] == 919876543210.0
    assert mapped.attributes == {"loyalty_tier": "Gold"}


def test_overrides_by_header_or_letter_win_and_can_ignore():
    head = rows(["Phone", "Other number", "Notes"], ["+447400123456", "+447400123457", "x"])
    mapping = plan_sheet("S", head, CONTACT_FIELDS, overrides={"other NUMBER": "phone", "A": IGNORE, "C": "company"})
    assert targets(mapping) == {"Phone": IGNORE, "Other number": "phone", "Notes": "company"}


def test_override_to_an_unknown_field_falls_back_to_automatic():
    head = rows(["Phone", "Notes"], ["+447400123456", "x"])
    assert targets(plan_sheet("S", head, CONTACT_FIELDS, overrides={"Notes": "password"}))["Notes"] == ATTRIBUTE


def test_two_columns_overridden_to_one_field_keep_the_leftmost():
    head = rows(["Phone", "Mobile"], ["+447400123456", "+447400123457"])
    mapping = plan_sheet("S", head, CONTACT_FIELDS, overrides={"Mobile": "phone"})
    assert targets(mapping) == {"Phone": "phone", "Mobile": ATTRIBUTE}


def test_unknown_columns_can_be_ignored():
    mapping = plan_sheet(
        "S", rows(["Phone", "Notes"], ["+447400123456", "x"]), CONTACT_FIELDS, unknown_to_attributes=False
    )
    assert targets(mapping)["Notes"] == IGNORE


def test_empty_header_cell_is_named_by_its_letter():
    mapping = plan_sheet("S", rows(["Phone", None, "City"], ["+447400123456", "x", "Pune"]), CONTACT_FIELDS)
    assert [column.header for column in mapping.columns] == ["Phone", "B", "City"]
    assert mapping.columns[1].label == "B"
    assert mapping.columns[2].label == "C (City)"


def test_column_letters():
    assert [column_letter(index) for index in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_unnamed_phone_column_is_found_by_its_values():
    mapping = plan_sheet("S", rows(["Primary", "Notes"], ["x", "+447400123456"], ["y", "07400123457"]), CONTACT_FIELDS)
    assert targets(mapping) == {"Primary": ATTRIBUTE, "Notes": "phone"}
