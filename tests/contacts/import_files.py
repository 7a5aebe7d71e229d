"""Real files for the import tests, made with the tools a user's spreadsheet comes from."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl

TWO_SHEET_INDIA = [
    (919876543210.0, "Asha", "Rao ", "asha@example.com", "Gold"),
    ("+91 98765 43211", "Ravi", "Kumar", "ravi@example.com", "Silver"),
    (None, None, None, None, None),
    ("  098765 43212  ", "Meera ", "Iyer", None, "Gold"),
]


def xlsx_two_sheets(path: Path) -> Path:
    """Sheet India: a merged title, a header, floats and text numbers, an empty row, trailing spaces and a
    formula with its cached value (as Excel saves it); sheet UK: another header order."""
    workbook = openpyxl.Workbook()
    india = workbook.active
    india.title = "India"
    india["A1"] = "Customer export — March"
    india.merge_cells("A1:E1")
    india.append(["Mobile Number ", "First Name", "Last Name", "E-mail", "Loyalty Tier"])
    for values in TWO_SHEET_INDIA:
        india.append(list(values))
    india.append(['="+91"&"9876543213"', "Formula", "Row", None, None])
    uk = workbook.create_sheet("UK")
    uk.append(["Name", "Phone"])
    uk.append(["Oliver Smith", 447400123456])
    uk.append(["Amelia Jones", "+44 7400 123457"])
    workbook.save(path)
    _set_cached_formula_value(path, "xl/worksheets/sheet1.xml", "+919876543213")
    return path


def _set_cached_formula_value(path: Path, part: str, value: str) -> None:
    """openpyxl writes formulas without a result; Excel stores the last result in `<v>`: add it."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = parts[part].decode()
    xml = re.sub(r"<c r=\"(A\d+)\"><f>(.*?)</f><v\s*/>", rf'<c r="\1" t="str"><f>\2</f><v>{value}</v>', xml)
    parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def replace_cell(path: Path, reference: str, cell_xml: str, part: str = "xl/worksheets/sheet1.xml") -> Path:
    """Put `cell_xml` in place of cell `reference` of a saved workbook (for what openpyxl cannot write, such
    as a cell holding an error value)."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = re.sub(rf'<c r="{reference}"[^>]*?(/>|>.*?</c>)', cell_xml, parts[part].decode(), count=1)
    parts[part] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def xls_two_sheets(path: Path) -> Path:
    import xlwt

    workbook = xlwt.Workbook()
    first = workbook.add_sheet("Contacts")
    for column, header in enumerate(["Phone", "Name"]):
        first.write(0, column, header)
    first.write(1, 0, 919876543210.0)
    first.write(1, 1, "Asha Rao")
    first.write(2, 0, "+44 7400 123456")
    first.write(2, 1, "Oliver Smith")
    second = workbook.add_sheet("More")
    second.write(0, 0, "Mobile")
    second.write(1, 0, 6591234567.0)
    workbook.save(str(path))
    return path


def write_text(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def csv_utf8_bom(path: Path) -> Path:
    return write_text(path, "phone,first_name\r\n+919876543210,Zoë\r\n+447400123456,Łukasz\r\n", "utf-8-sig")


def csv_utf16_tab(path: Path) -> Path:
    return write_text(path, "Mobile\tName\r\n+919876543210\t山田\r\n+6591234567\t陈\r\n", "utf-16")


def csv_cp1252_semicolon_quoted_newline(path: Path) -> Path:
    text = 'Téléphone;Prénom;Note\r\n+33612345678;"José";"Line one\r\nline two; still €"\r\n+447400123456;Zoë;plain\r\n'
    return write_text(path, text, "cp1252")


def txt_bare_numbers(path: Path) -> Path:
    return write_text(path, "919876543210\n+44 7400 123456\n\n0065 9123 4567\n", "ascii")


def zip_bomb(path: Path, expanded_mb: int = 60) -> Path:
    """An xlsx-shaped zip whose sheet expands over 1000:1."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b" " * (1024 * 1024)
            for _ in range(expanded_mb):
                sheet.write(block)
    return path


def entity_bomb(path: Path, tmp_dir: Path) -> Path:
    """A real workbook whose shared strings declare the billion-laughs entities."""
    plain = tmp_dir / "plain-for-bomb.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Phone"])
    workbook.active.append(["+447400123456"])
    workbook.save(plain)
    laughs = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [' + "".join(laughs) + "]>"
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
        "<si><t>&lol9;</t></si></sst>"
    )
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info))
        target.writestr("xl/sharedStrings.xml", bomb)
    return path


def renamed_binary(path: Path) -> Path:
    """A PNG image saved as .xlsx."""
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    return path


def password_protected_xlsx(path: Path, tmp_dir: Path) -> Path:
    """An xlsx encrypted the way Excel does it (CFB container with EncryptionInfo + EncryptedPackage)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = tmp_dir / "plain-for-password.xlsx"
    workbook = openpyxl.Workbook()
    workbook.active.append(["Phone"])
    workbook.active.append(["+447400123456"])
    workbook.save(plain)
    encrypted = io.BytesIO()
    with open(plain, "rb") as source:
        OOXMLFile(source).encrypt("secret-1", encrypted)
    path.write_bytes(encrypted.getvalue())
    return path


def xlsx_rows(path: Path, rows: list[list], title: str = "Sheet") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for values in rows:
        sheet.append(values)
    workbook.save(path)
    return path
