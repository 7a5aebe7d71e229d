"""Readers: type by content, encodings, delimiters, sheets, row numbers and cell types."""

import datetime

import openpyxl
import pytest

from contacts.importing.errors import ImportFileError
from contacts.importing.readers import csv_chunks, detect_kind, detect_text_format
from contacts.importing.safety import read_rows
from tests.contacts import import_files


def all_rows(path):
    return [row for chunk in read_rows(path) for row in chunk]


def test_xlsx_reads_every_sheet_with_excel_row_numbers_and_cell_types(tmp_path):
    path = import_files.xlsx_two_sheets(tmp_path / "contacts.xlsx")
    rows = all_rows(path)
    india = [row for row in rows if row.sheet == "India"]
    uk = [row for row in rows if row.sheet == "UK"]
    assert [row.number for row in india] == [1, 2, 3, 4, 6, 7]
    assert india[0].values[0] == "Customer export — March"
    assert india[1].values[0] == "Mobile Number "
    assert india[2].values[0] == 919876543210  # a number cell stays a number (whole numbers come as int)
    assert india[3].values[0] == "+91 98765 43211"
    assert india[4].values[:2] == ("  098765 43212  ", "Meera ")
    assert india[5].values[0] == "+919876543213"
    assert [row.values for row in uk] == [
        ("Name", "Phone"),
        ("Oliver Smith", 447400123456.0),
        ("Amelia Jones", "+44 7400 123457"),
    ]


@pytest.mark.parametrize("kind", ["xlsx", "xls"])
def test_a_sheet_that_starts_below_and_right_of_a1_keeps_excel_row_numbers(tmp_path, kind):
    path = tmp_path / f"offset.{kind}"
    if kind == "xlsx":
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        sheet["B3"], sheet["B4"], sheet["C7"] = "Phone", "+447400123456", "x"
        workbook.save(path)
    else:
        import xlwt

        workbook = xlwt.Workbook()
        sheet = workbook.add_sheet("Sheet")
        sheet.write(2, 1, "Phone")
        sheet.write(3, 1, "+447400123456")
        sheet.write(6, 2, "x")
        workbook.save(str(path))
    rows = all_rows(path)
    cells = [(row.number, {column: value for column, value in enumerate(row.values) if value}) for row in rows]
    assert cells == [(3, {1: "Phone"}), (4, {1: "+447400123456"}), (7, {2: "x"})]


def test_excel_error_values_are_empty_cells(tmp_path):
    path = import_files.xlsx_rows(tmp_path / "errors.xlsx", [["Phone", "Email"], ["+447400123456", "x"]])
    import_files.replace_cell(path, "B2", '<c r="B2" t="e"><v>#N/A</v></c>')
    assert [row.values for row in all_rows(path)] == [("Phone", "Email"), ("+447400123456", None)]


def test_xls_is_read_through_the_same_path(tmp_path):
    path = import_files.xls_two_sheets(tmp_path / "legacy.xls")
    assert detect_kind(path) == "xls"
    rows = all_rows(path)
    assert [(row.sheet, row.number, row.values[0]) for row in rows] == [
        ("Contacts", 1, "Phone"),
        ("Contacts", 2, 919876543210.0),
        ("Contacts", 3, "+44 7400 123456"),
        ("More", 1, "Mobile"),
        ("More", 2, 6591234567.0),
    ]


def test_xlsx_dates_stay_dates(tmp_path):
    path = import_files.xlsx_rows(
        tmp_path / "d.xlsx", [["Phone", "Birth date"], ["+447400123456", datetime.date(1990, 5, 17)]]
    )
    assert all_rows(path)[1].values[1] in (datetime.date(1990, 5, 17), datetime.datetime(1990, 5, 17))


def test_csv_utf8_with_bom(tmp_path):
    path = import_files.csv_utf8_bom(tmp_path / "bom.csv")
    rows = all_rows(path)
    assert rows[0].values == ("phone", "first_name")
    assert rows[1].values == ("+919876543210", "Zoë")
    assert rows[2].values[1] == "Łukasz"


def test_csv_utf16_with_tabs(tmp_path):
    path = import_files.csv_utf16_tab(tmp_path / "utf16.csv")
    rows = all_rows(path)
    assert [row.values for row in rows] == [("Mobile", "Name"), ("+919876543210", "山田"), ("+6591234567", "陈")]


def test_csv_cp1252_semicolons_and_quoted_newline_is_one_row(tmp_path):
    path = import_files.csv_cp1252_semicolon_quoted_newline(tmp_path / "win.csv")
    rows = all_rows(path)
    assert rows[0].values == ("Téléphone", "Prénom", "Note")
    assert rows[1].values == ("+33612345678", "José", "Line one\r\nline two; still €")
    assert (rows[2].number, rows[2].values[1]) == (3, "Zoë")


def test_pipe_delimited_text(tmp_path):
    path = import_files.write_text(tmp_path / "p.txt", "phone|name\n+447400123456|Ann\n+447400123457|Bob\n", "utf-8")
    assert all_rows(path)[1].values == ("+447400123456", "Ann")


def test_bare_numbers_txt_is_one_column_and_skips_blank_lines(tmp_path):
    path = import_files.txt_bare_numbers(tmp_path / "numbers.txt")
    rows = all_rows(path)
    assert [(row.number, row.values) for row in rows] == [
        (1, ("919876543210",)),
        (2, ("+44 7400 123456",)),
        (4, ("0065 9123 4567",)),
    ]


def test_latin1_fallback_for_bytes_cp1252_does_not_define():
    assert detect_text_format("phone,name\n1,Ab\x81c\n".encode("latin-1"), complete=True).encoding == "latin-1"


def test_windows_bytes_after_an_ascii_start_are_read_as_cp1252(tmp_path):
    path = tmp_path / "late.csv"
    path.write_bytes(b"phone,name\n" + b"+447400123456,Ann\n" * 20000 + "+447400123457,José €\n".encode("cp1252"))
    last = [row for chunk in csv_chunks(path) for row in chunk][-1]
    assert (last.number, last.values) == (20002, ("+447400123457", "José €"))


def test_utf16_with_a_broken_tail_is_an_unreadable_encoding(tmp_path):
    path = tmp_path / "broken16.csv"
    path.write_bytes("phone\n+447400123456\n".encode("utf-16") + b"\x00\xd8\x41\x00")
    with pytest.raises(ImportFileError) as caught:
        list(csv_chunks(path))
    assert caught.value.code == "unreadable_encoding"


def test_chunks_are_bounded(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("phone\n" + "".join(f"+4474001{index:05d}\n" for index in range(12000)))
    sizes = [len(chunk) for chunk in csv_chunks(path, chunk_rows=5000)]
    assert sizes == [5000, 5000, 2001]


def test_word_document_in_a_zip_is_the_wrong_type(tmp_path):
    import zipfile

    path = tmp_path / "letter.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    with pytest.raises(ImportFileError) as caught:
        detect_kind(path)
    assert caught.value.code == "wrong_type" and "Word" in caught.value.message
