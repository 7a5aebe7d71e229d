"""Hostile and broken uploads: each gives its clear error, and the calling process lives on."""

import os
from dataclasses import replace

import pytest

from contacts.importing.errors import ImportFileError
from contacts.importing.safety import Limits, read_rows, spreadsheet_chunks_isolated
from tests.contacts import import_files


def error_of(path, limits=None):
    with pytest.raises(ImportFileError) as caught:
        for _chunk in read_rows(path, limits=limits):
            pass
    return caught.value


def test_zero_bytes_is_an_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    error = error_of(path)
    assert (error.code, error.message) == ("empty_file", "The file is empty (0 bytes).")


def test_renamed_binary_is_the_wrong_type(tmp_path):
    error = error_of(import_files.renamed_binary(tmp_path / "photo.xlsx"))
    assert error.code == "wrong_type"
    assert "PNG image" in error.message


def test_unknown_binary_without_magic_is_the_wrong_type(tmp_path):
    path = tmp_path / "random.csv"
    path.write_bytes(os.urandom(4096).replace(b"\x00", b"\x01") + b"\x00\x02\x03" * 50)
    assert error_of(path).code in {"wrong_type", "unreadable_encoding"}


def test_zip_bomb_is_rejected_before_parsing(tmp_path):
    error = error_of(import_files.zip_bomb(tmp_path / "bomb.xlsx"))
    assert error.code == "zip_bomb"
    assert "compressed" in error.message


def test_total_uncompressed_size_is_limited(tmp_path):
    path = import_files.xlsx_two_sheets(tmp_path / "ok.xlsx")
    error = error_of(path, replace(Limits(), max_uncompressed_bytes=1000))
    assert error.code == "zip_bomb" and "expand" in error.message


def test_too_many_zip_entries_is_rejected(tmp_path):
    path = import_files.xlsx_two_sheets(tmp_path / "ok.xlsx")
    assert error_of(path, replace(Limits(), max_zip_entries=3)).code == "zip_bomb"


def test_xml_entity_bomb_is_rejected(tmp_path):
    error = error_of(import_files.entity_bomb(tmp_path / "laughs.xlsx", tmp_path))
    assert error.code == "xml_entities"
    assert "xl/sharedStrings.xml" in error.message


def test_password_protected_workbook(tmp_path):
    error = error_of(import_files.password_protected_xlsx(tmp_path / "locked.xlsx", tmp_path))
    assert error.code == "password_protected"
    assert "remove the password" in error.message


def test_file_over_the_size_limit(tmp_path):
    path = import_files.csv_utf8_bom(tmp_path / "big.csv")
    error = error_of(path, replace(Limits(), max_bytes=10))
    assert error.code == "too_large"
    assert "limit for this import" in error.message


def test_damaged_xlsx_is_a_clear_error(tmp_path):
    path = import_files.xlsx_two_sheets(tmp_path / "ok.xlsx")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert error_of(path).code == "corrupt_file"


def test_parser_crash_becomes_an_error_and_this_process_lives(tmp_path):
    path = import_files.xlsx_two_sheets(tmp_path / "ok.xlsx")
    with pytest.raises(ImportFileError) as caught:
        list(spreadsheet_chunks_isolated(path, Limits(), chunk_rows=100, module="tests.contacts.crashing_parser"))
    assert caught.value.code == "parser_crashed"
    assert "parser stopped" in caught.value.message
    assert sum(len(chunk) for chunk in read_rows(path)) == 9


def test_parser_memory_limit_is_enforced(tmp_path):
    limits = replace(Limits(), reader_memory_mb=48)
    small = import_files.xlsx_rows(tmp_path / "small.xlsx", [["Phone"], ["+447400123456"]])
    assert sum(len(chunk) for chunk in read_rows(small, limits=limits)) == 2
    # The rows stream through in little memory; the shared strings (60 MB here) are held whole.
    notes = [["Phone", "Note"]] + [[f"+4474{i:08d}", f"note {i:06d} " * 160] for i in range(30000)]
    wide = import_files.xlsx_rows(tmp_path / "wide.xlsx", notes)
    assert error_of(wide, limits).code in {"parser_crashed", "too_large_to_read"}


def test_parser_wall_time_limit_kills_the_child(tmp_path):
    path = import_files.xlsx_rows(tmp_path / "slow.xlsx", [["Phone"]] + [[f"+4474{i:08d}"] for i in range(50000)])
    limits = replace(Limits(), reader_wall_seconds=0.01)
    error = error_of(path, limits)
    assert error.code == "read_timeout"


def test_a_slow_importer_does_not_count_against_the_parser_time_limit(tmp_path):
    import time

    path = import_files.xlsx_rows(tmp_path / "few.xlsx", [["Phone"]] + [[f"+4474{i:08d}"] for i in range(4)])
    limits = replace(Limits(), reader_wall_seconds=1)
    rows = []
    for chunk in read_rows(path, limits=limits, chunk_rows=2):
        rows.extend(chunk)
        time.sleep(1.5)
    assert len(rows) == 5


def test_header_only_file_reads_without_rows(tmp_path):
    path = import_files.write_text(tmp_path / "h.csv", "phone,name\n", "utf-8")
    assert [row.values for chunk in read_rows(path) for row in chunk] == [("phone", "name")]
