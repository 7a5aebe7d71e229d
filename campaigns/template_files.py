"""Spreadsheets of templates: the DLT export (xlsx), DLT template ids read back, and blocked template id lists.

Uploads (txt, csv, xls, xlsx) are read with the import engine's safe readers (`contacts.importing.safety`):
type told by content, size limits, spreadsheets parsed in a sandboxed child process.
"""

import io
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from django.core.exceptions import ValidationError
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from campaigns.encoding import is_gsm
from campaigns.models import Template
from campaigns.template_rules import to_dlt_body
from campaigns.variables import parse_body
from contacts.importing.errors import ImportFileError
from contacts.importing.safety import read_rows

DLT_TYPE_NAMES = {"T": "Transactional", "P": "Promotional", "SI": "Service Implicit", "SE": "Service Explicit"}
DLT_COLUMNS = (
    "Template Name",
    "Template Type",
    "Header",
    "Template Content",
    "Content Type",
    "Entity ID",
    "DLT Template ID",
    "Variables",
)
BLOCKED_ID_HEADERS = ("template_id", "template id", "templateid", "id", "dlt template id", "dlt_template_id")
DLT_ID_HEADERS = ("dlt template id", "dlt_template_id", "template id", "content template id", "dlt id")
REFERENCE_HEADERS = ("template name", "name", "alias", "template alias")
IMPORT_KIND = "blocked_templates"


def export_dlt_workbook(templates: Iterable) -> bytes:
    """An xlsx in the layout DLT portals take: one row per template, variables written `{#var#}`."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Templates")
    sheet.append([_bold_cell(sheet, title) for title in DLT_COLUMNS])
    for template in templates:
        sheet.append(
            [
                template.name,
                DLT_TYPE_NAMES.get(template.template_type, template.template_type),
                template.sender.name if template.sender else "",
                to_dlt_body(template.body),
                "Text" if template.is_english and is_gsm(template.body) else "Unicode",
                template.sender.entity_id if template.sender else "",
                template.dlt_template_id,
                len(parse_body(template.body).variables),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def dlt_export(account) -> tuple[bytes, str]:
    """The account's approved templates as a DLT xlsx workbook, and its file name."""
    templates = Template.objects.for_account(account).approved().select_related("sender").order_by("name")
    return export_dlt_workbook(templates), f"dlt-templates-{account.slug}.xlsx"


def _bold_cell(sheet, value):
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = Font(bold=True)
    return cell


def _rows(upload):
    """(row number, values) of an uploaded file; ValidationError on `file` when it cannot be read."""
    temporary_path = getattr(upload, "temporary_file_path", None)
    if temporary_path is not None:
        yield from _rows_from_path(Path(temporary_path()))
        return
    with tempfile.NamedTemporaryFile(suffix=Path(upload.name or "").suffix) as handle:
        upload.seek(0)
        shutil.copyfileobj(upload, handle)
        handle.flush()
        yield from _rows_from_path(Path(handle.name))


def _rows_from_path(path: Path):
    try:
        for chunk in read_rows(path, kind=IMPORT_KIND):
            for row in chunk:
                yield row.number, list(row.values)
    except ImportFileError as exc:
        raise ValidationError({"file": [exc.message]}) from None


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _cell(value):
    """Number cells become floats, as Excel stores them (the services refuse ids that lost digits; the reader
    gives whole numbers as int); everything else becomes trimmed text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return _text(value)


def _find(headers: list[str], names: tuple[str, ...]) -> int | None:
    return next((headers.index(name) for name in names if name in headers), None)


def read_blocked_template_ids(upload) -> list[tuple[int, str | float]]:
    """(row number, template id) pairs: a bare list (first column) or a table with a template id column."""
    pairs: list[tuple[int, str | float]] = []
    column = 0
    for index, (number, values) in enumerate(_rows(upload)):
        if index == 0:
            headers = [_text(value).lower() for value in values]
            found = _find(headers, BLOCKED_ID_HEADERS)
            if found is not None:
                column = found
                continue
        value = _cell(values[column]) if column < len(values) else ""
        if value != "":
            pairs.append((number, value))
    if not pairs:
        raise ValidationError({"file": ["The file contains no template ids."]})
    return pairs


def read_dlt_template_ids(upload) -> list[tuple[int, str, str | float]]:
    """(row number, template name or alias, DLT template id) from a sheet with a header row."""
    triples: list[tuple[int, str, str]] = []
    reference_column = id_column = None
    for index, (number, values) in enumerate(_rows(upload)):
        if index == 0:
            headers = [_text(value).lower() for value in values]
            reference_column, id_column = _find(headers, REFERENCE_HEADERS), _find(headers, DLT_ID_HEADERS)
            if reference_column is None or id_column is None:
                raise ValidationError(
                    {"file": ["The first row must name a “Template Name” column and a “DLT Template ID” column."]}
                )
            continue
        cells = [_cell(value) for value in values]
        reference = cells[reference_column] if reference_column < len(cells) else ""
        dlt_id = cells[id_column] if id_column < len(cells) else ""
        if reference or dlt_id:
            triples.append((number, reference, dlt_id))
    if not triples:
        raise ValidationError({"file": ["The file contains no templates."]})
    return triples
