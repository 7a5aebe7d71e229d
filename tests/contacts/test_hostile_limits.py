"""Hostile-file limits: 100:1 compression, 1 GB uncompressed, a 512 MB parser, 1,000 columns, and size messages.

Files are built here with the tools real ones come from (openpyxl, xlwt, plain text) and go through the API.
"""

import random
import re
import time
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.importing.columns import too_wide_reason
from contacts.importing.engine import build_preview
from contacts.importing.readers import csv_chunks
from contacts.importing.safety import Limits, limits_for, read_rows
from contacts.importing.sizes import MB, over_limit
from contacts.models import Contact

URL = "/api/v2/contacts/imports"
WIDE = 200_000


@pytest.fixture
def marketer_api(api):
    return api("marketer")


@pytest.fixture
def inline(settings):
    """Every upload runs in the request, whatever its size."""
    settings.IMPORT_INLINE_MAX_BYTES = 100 * MB


def upload(client, name: str, data: bytes):
    response = client.post(URL, {"file": SimpleUploadedFile(name, data)}, format="multipart")
    assert response.status_code == 202, response.json()
    return response.json()["data"]


def row_errors(client, import_id: str) -> list[dict]:
    return client.get(f"{URL}/{import_id}/errors").json()["data"]


def padded_xlsx(path, ratio_run: int = 500, padding_mb: int = 12):
    """A real workbook (openpyxl) whose sheet XML carries `padding_mb` MB of whitespace between its rows, as
    generated sheets sometimes do: about 160:1 with runs of 500 spaces (between the old limit and the new)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Phone", "Name"])
    for index in range(20):
        sheet.append([f"+4474001{index:05d}", f"Person {index}"])
    workbook.save(path)
    rng = random.Random(7)
    parts, size = [], 0
    while size < padding_mb * MB:
        run = rng.randint(ratio_run // 2, ratio_run * 3 // 2)
        parts.append(" " * run + rng.choice("\t\n\r"))
        size += run + 1
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = members["xl/worksheets/sheet1.xml"].decode()
    members["xl/worksheets/sheet1.xml"] = xml.replace("</sheetData>", "".join(parts) + "</sheetData>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def sheet_ratio(path) -> float:
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    return info.file_size / info.compress_size


def wide_line(first: str, width: int, cell: str = "x") -> str:
    return ",".join([first, *([cell] * (width - 1))])


# -- defaults and settings -------------------------------------------------------------------------------------
def test_defaults_are_100_to_1_one_gigabyte_512_megabytes_and_1000_columns(settings):
    for name in ("IMPORT_MAX_COMPRESSION_RATIO", "IMPORT_MAX_UNCOMPRESSED_BYTES", "IMPORT_READER_MEMORY_MB"):
        assert not hasattr(settings, name)
    limits = limits_for("contacts")
    assert limits == Limits()
    assert (limits.max_compression_ratio, limits.max_uncompressed_bytes) == (100, 1024 * MB)
    assert (limits.reader_memory_mb, limits.max_columns) == (512, 1000)


def test_settings_override_every_limit(settings):
    settings.IMPORT_MAX_COMPRESSION_RATIO = 200
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 2048 * MB
    settings.IMPORT_READER_MEMORY_MB = 1024
    settings.IMPORT_MAX_COLUMNS = 50
    limits = limits_for("unsubscribers")
    assert (limits.max_compression_ratio, limits.max_uncompressed_bytes) == (200, 2048 * MB)
    assert (limits.reader_memory_mb, limits.max_columns) == (1024, 50)


# -- compression ---------------------------------------------------------------------------------------------------
def test_workbook_compressed_over_100_to_1_is_refused(marketer_api, tmp_path):
    path = padded_xlsx(tmp_path / "padded.xlsx")
    assert 100 < sheet_ratio(path) < 200  # what the old 200:1 limit let through
    data = upload(marketer_api, "padded.xlsx", path.read_bytes())
    assert data["state"] == "failed"
    assert data["error"]["code"] == "zip_bomb"
    message = data["error"]["message"]
    assert re.search(r"xl/worksheets/sheet1\.xml is compressed 1\d\d:1 \(the limit is 100:1\)", message), message
    assert not Contact.objects.exists()


def test_the_ratio_setting_lets_the_same_workbook_in(marketer_api, settings, tmp_path):
    settings.IMPORT_MAX_COMPRESSION_RATIO = 200
    path = padded_xlsx(tmp_path / "padded.xlsx")
    data = upload(marketer_api, "padded.xlsx", path.read_bytes())
    assert data["state"] == "done", data["error"]
    assert data["counts"]["created"] == 20


def test_uncompressed_total_over_the_setting_is_refused_with_sizes_that_differ(
    marketer_api, settings, inline, tmp_path
):
    settings.IMPORT_MAX_UNCOMPRESSED_BYTES = 12 * MB
    path = padded_xlsx(tmp_path / "padded.xlsx", ratio_run=20)
    data = upload(marketer_api, "padded.xlsx", path.read_bytes())
    assert data["error"]["code"] == "zip_bomb"
    assert re.search(r"it would expand to 12\.\d MB \(the limit is 12 MB\)", data["error"]["message"])


# -- the parser's 512 MB -------------------------------------------------------------------------------------------
def test_a_20000_row_workbook_reads_whole_under_the_default_parser_memory(tmp_path):
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Contacts")
    sheet.append(["Mobile", "First name", "Last name", "Email", "Tier", "Tags"])
    for index in range(20_000):
        sheet.append([float(f"9198{index:08d}"), "Asha", "Rao", f"asha{index}@example.com", "Gold", "vip, retail"])
    path = tmp_path / "contacts.xlsx"
    workbook.save(path)
    assert Limits().reader_memory_mb == 512
    assert sum(len(chunk) for chunk in read_rows(path)) == 20_001


# -- columns -------------------------------------------------------------------------------------------------------
def test_csv_header_of_200000_columns_is_a_file_error_found_fast(marketer_api, inline):
    text = ",".join(["phone", *(f"col{index}" for index in range(1, WIDE))]) + "\n+447400123456,Ann\n"
    assert 1.7 * MB < len(text) < 2 * MB  # the 1.9 MB file of the probe
    started = time.perf_counter()
    data = upload(marketer_api, "wide.csv", text.encode())
    elapsed = time.perf_counter() - started
    assert data["state"] == "failed"
    assert data["error"] == {
        "code": "too_many_columns",
        "message": "The header row (row 1) has more than 1,000 columns; the limit is 1,000. Delete the empty or "
        "unused columns, or split the file, and upload it again.",
    }
    assert elapsed < 10, elapsed  # 38 s before the cap, about 1 s with it
    assert not Contact.objects.exists()


def test_csv_data_row_of_200000_columns_is_a_row_error_and_the_others_import(marketer_api, inline):
    text = "phone,name\n+447400123456,Ann\n" + wide_line("+447400123457", WIDE) + "\n+447400123458,Cy\n"
    started = time.perf_counter()
    data = upload(marketer_api, "wide-row.csv", text.encode())
    assert time.perf_counter() - started < 10
    assert data["state"] == "done"
    assert (data["counts"]["read"], data["counts"]["created"], data["counts"]["failed"]) == (3, 2, 1)
    assert row_errors(marketer_api, data["id"]) == [
        {
            "sheet": "",
            "row": 3,
            "column": "",
            "value": "",
            "code": "too_many_columns",
            "reason": "The row has more than 1,000 columns (the limit); it was not imported.",
        }
    ]
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Ann", "Cy"]


def xlsx_bytes(path, rows):
    workbook = openpyxl.Workbook()
    for values in rows:
        workbook.active.append(values)
    workbook.save(path)
    return path.read_bytes()


def xls_bytes(path, rows):
    import xlwt

    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Contacts")
    for row, values in enumerate(rows):
        for column, value in enumerate(values):
            if value is not None:
                sheet.write(row, column, value)
    workbook.save(str(path))
    return path.read_bytes()


def csv_bytes(path, rows):
    return "".join(",".join("" if value is None else str(value) for value in values) + "\n" for values in rows).encode()


BUILDERS = {"csv": csv_bytes, "xlsx": xlsx_bytes, "xls": xls_bytes}


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_every_reader_applies_the_column_setting(marketer_api, settings, tmp_path, kind):
    settings.IMPORT_MAX_COLUMNS = 4
    rows = [
        ["Phone", "Name", "City"],
        ["+447400123456", "Ann", "Leeds"],
        ["+447400123457", "Bob", "York", None, None, "note past the cap"],
        ["+447400123458", "Cy", "Bath"],
    ]
    data = upload(marketer_api, f"people.{kind}", BUILDERS[kind](tmp_path / f"people.{kind}", rows))
    assert data["state"] == "done", data["error"]
    assert (data["counts"]["created"], data["counts"]["failed"]) == (2, 1)
    [error] = row_errors(marketer_api, data["id"])
    assert (error["row"], error["code"]) == (3, "too_many_columns")
    assert "more than 4 columns" in error["reason"]

    header = [["Phone", "Name", "City", "Zip", "Extra"], ["+447400123456", "Ann", "Leeds", "LS1", "x"]]
    data = upload(marketer_api, f"header.{kind}", BUILDERS[kind](tmp_path / f"header.{kind}", header))
    assert data["state"] == "failed"
    assert data["error"]["code"] == "too_many_columns"
    assert "has more than 4 columns; the limit is 4" in data["error"]["message"]


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_empty_cells_past_the_cap_are_dropped_quietly(marketer_api, settings, tmp_path, kind):
    """A stray cell far to the right widens every row of a sheet; only a row with a value past the cap fails."""
    settings.IMPORT_MAX_COLUMNS = 3
    rows = [["Phone", "Name", None, None, None], ["+447400123456", "Ann", None, None, None]]
    rows += [["+447400123457", "Bob", None, None, "far right"]]
    data = upload(marketer_api, f"stray.{kind}", BUILDERS[kind](tmp_path / f"stray.{kind}", rows))
    assert data["state"] == "done", data["error"]
    assert (data["counts"]["created"], data["counts"]["failed"]) == (1, 1)
    assert [error["row"] for error in row_errors(marketer_api, data["id"])] == [3]


def test_preview_and_dry_run_mark_a_row_over_the_cap(marketer_api, account, settings, tmp_path):
    settings.IMPORT_MAX_COLUMNS = 3
    path = tmp_path / "p.csv"
    path.write_text("phone,name\n+447400123456,Ann\n+447400123457,Bob,a,b,c\n")
    ok, wide = build_preview(path, "contacts", account)["rows"]
    assert (ok["ok"], wide["ok"], wide["row"]) == (True, False, 3)
    assert [cell["problem"] for cell in wide["cells"]] == [too_wide_reason(3), "", ""]
    data = marketer_api.post(
        URL, {"file": SimpleUploadedFile("p.csv", path.read_bytes()), "dry_run": "true"}, format="multipart"
    ).json()["data"]
    assert (data["counts"]["read"], data["counts"]["failed"]) == (2, 1)
    assert not Contact.objects.exists()


# -- the csv guard -------------------------------------------------------------------------------------------------
def read_csv(tmp_path, text: str, limit: int) -> list:
    path = tmp_path / "guard.csv"
    path.write_text(text, encoding="utf-8")
    return [row for chunk in csv_chunks(path, max_columns=limit) for row in chunk]


def test_delimiters_inside_quotes_do_not_count(tmp_path):
    notes = "a," * 3000
    [_header, row] = read_csv(tmp_path, f'phone,notes\n+447400123456,"{notes}"\n', limit=5)
    assert row.values == ("+447400123456", notes) and row.over_limit == 0


def test_rows_after_a_cut_row_keep_their_numbers_and_cells(tmp_path):
    """The part cut off opens a quoted field that runs over two lines: those lines stay in the cut row."""
    text = 'phone,name\n+447400123456,a,b,c,d,e,f,"note\nstill the note",g\n+447400123457,Bob\n'
    rows = read_csv(tmp_path, text, limit=4)
    assert [(row.number, row.values, row.over_limit) for row in rows] == [
        (1, ("phone", "name"), 0),
        (2, ("+447400123456", "a", "b", "c"), 4),
        (3, ("+447400123457", "Bob"), 0),
    ]


def test_a_record_cannot_grow_past_the_cap_over_quoted_newlines(tmp_path):
    """Each line closes a quoted field, adds ten fields and opens another one: 502 fields in all."""
    text = '+447400123456,"start\n' + ('x"' + "," * 10 + '"\n') * 50 + 'end"\n+447400123457\n'
    rows = read_csv(tmp_path, text, limit=20)
    assert [(row.number, len(row.values), row.over_limit) for row in rows] == [(1, 20, 20), (2, 1, 0)]


# -- size messages -------------------------------------------------------------------------------------------------
def test_sizes_just_over_a_limit_never_read_as_the_limit():
    assert over_limit(100 * MB + 1, 100 * MB) == ("100.1", "100")
    assert over_limit(150 * MB, 100 * MB) == ("150.0", "100")
    assert over_limit(int(1.55 * MB) + 1, int(1.55 * MB)) == ("1.6", "1.5")
    assert over_limit(2048 * MB + 1, 1024 * MB) == ("2,048.1", "1,024")


def test_upload_one_byte_over_the_limit_says_so(marketer_api, settings):
    settings.IMPORT_MAX_FILE_SIZE = MB
    data = ("phone\n" + "+447400123456\n" * (MB // 14 + 1)).encode()[: MB + 1]
    response = marketer_api.post(URL, {"file": SimpleUploadedFile("big.csv", data)}, format="multipart")
    assert response.status_code == 413
    assert response.json()["message"] == (
        "The file is 1.1 MB; the limit for this import is 1 MB. Split it into smaller files."
    )
