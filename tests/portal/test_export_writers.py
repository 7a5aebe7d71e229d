"""Streamed CSV/XLSX writers: round trips and the formula-injection policy."""

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from python_calamine_plus import CalamineWorkbook

from portal.exports.writers import ExportColumn, iter_csv, safe_cell
from portal.exports.xlsx import write_xlsx

COLUMNS = [
    ExportColumn("Phone", lambda row: row["phone"], phone=True),
    ExportColumn("Name", lambda row: row["name"]),
    ExportColumn("Note", lambda row: row["note"]),
    ExportColumn("Count", lambda row: row["count"]),
]

ROWS = [
    {"phone": "+919876543210", "name": "Asha Rao", "note": "plain text", "count": 3},
    {"phone": "+447400123456", "name": "O'Brien, Seán", "note": 'quote " and, comma\nnew line', "count": 0},
    {"phone": '=HYPERLINK("http://x")', "name": "=1+2", "note": "@SUM(A1)", "count": -4},
    {"phone": "+12", "name": "-2+3", "note": "+cmd|' /C calc'!A0", "count": None},
    {"phone": "", "name": "\tTabbed", "note": "\rCarriage", "count": 7},
]


def expected_text(row):
    return [
        safe_cell(row["phone"], phone=True),
        safe_cell(row["name"]),
        safe_cell(row["note"]),
        "" if row["count"] is None else str(row["count"]),
    ]


def xlsx_text(value):
    """XLSX reads back an empty cell as None, and XML turns a carriage return into a line feed."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n")


@pytest.mark.parametrize(
    ("value", "phone", "expected"),
    [
        ("+919876543210", True, "+919876543210"),  # valid E.164 in a phone column stays intact
        ("+919876543210", False, "'+919876543210"),  # the same text elsewhere is neutralised
        ("+12", True, "'+12"),  # not E.164: neutralised even in a phone column
        ("+91 98765 43210", True, "'+91 98765 43210"),
        ("=1+2", False, "'=1+2"),
        ("@SUM(A1)", False, "'@SUM(A1)"),
        ("-2+3", False, "'-2+3"),
        ("\tx", False, "'\tx"),
        ("\rx", False, "'\rx"),
        ("Asha", False, "Asha"),
        ("a=b", False, "a=b"),
        (None, False, ""),
        (-4, False, -4),
    ],
)
def test_safe_cell_policy(value, phone, expected):
    assert safe_cell(value, phone=phone) == expected


def test_csv_round_trip_is_identical_after_policy():
    text = "".join(iter_csv(COLUMNS, ROWS))
    assert text.startswith("\ufeff")
    parsed = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert parsed[0] == ["Phone", "Name", "Note", "Count"]
    assert parsed[1:] == [expected_text(row) for row in ROWS]
    assert parsed[1][0] == "+919876543210"
    assert parsed[2][1] == "O'Brien, Seán"
    assert all(not cell.startswith(("=", "@", "-", "+", "\t", "\r")) for row in parsed[3:] for cell in row[:3])


def test_csv_is_streamed_in_chunks_from_a_generator():
    def endless_rows():
        for n in range(1200):
            yield {"phone": f"+9198765{n:05d}", "name": f"n{n}", "note": "", "count": n}

    chunks = iter_csv(COLUMNS, endless_rows())
    header = next(chunks)
    assert header.strip() == "\ufeffPhone,Name,Note,Count"
    rest = list(chunks)
    assert len(rest) == 3  # 500 + 500 + 200 rows
    assert sum(chunk.count("\n") for chunk in rest) == 1200


def test_xlsx_round_trip_has_identical_values_and_no_formula_cells(tmp_path):
    target = tmp_path / "out.xlsx"
    write_xlsx(COLUMNS, iter(ROWS), str(target), title="Contacts: all/[x]")
    workbook = load_workbook(target)
    sheet = workbook.active
    assert sheet.title == "Contacts  all  x"
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]] == ["Phone", "Name", "Note", "Count"]
    for row, cells in zip(ROWS, rows[1:], strict=True):
        values = [cell.value for cell in cells]
        assert [xlsx_text(value) for value in values[:3]] == [xlsx_text(text) for text in expected_text(row)[:3]]
        assert values[3] == row["count"]
    assert rows[1][0].value == "+919876543210"
    assert all(cell.data_type != "f" for cells in rows for cell in cells)


def test_xlsx_writes_to_a_file_object_and_keeps_dates(tmp_path):
    columns = [
        ExportColumn("Born", lambda row: row[0]),
        ExportColumn("Created", lambda row: row[1]),
    ]
    created = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)
    buffer = io.BytesIO()
    write_xlsx(columns, [(dt.date(1990, 5, 17), created)], buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).active
    born, created_cell = next(sheet.iter_rows(min_row=2))
    assert born.value.date() == dt.date(1990, 5, 17)
    assert created_cell.value == "2026-11-23T09:30:00+00:00"


def test_xlsx_reads_back_the_same_with_calamine(tmp_path):
    """The reader imports use (python-calamine-plus, a Rust XLSX parser) reads the streamed workbook too."""
    target = tmp_path / "out.xlsx"
    write_xlsx(COLUMNS, iter(ROWS), str(target), title="Contacts")
    with CalamineWorkbook.from_path(str(target)) as workbook:
        assert workbook.sheet_names == ["Contacts"]
        rows = list(workbook.get_sheet_by_index(0).iter_rows())
    assert rows[0] == ["Phone", "Name", "Note", "Count"]
    for row, cells in zip(ROWS, rows[1:], strict=True):
        assert cells[:3] == expected_text(row)[:3]
        assert cells[3] == ("" if row["count"] is None else row["count"])
