"""The error report of an import as a CSV or XLSX download (used by the import pages and the API)."""

import tempfile

from django.http import FileResponse, StreamingHttpResponse

from contacts.models import Import
from portal.exports.writers import ExportColumn, iter_csv
from portal.exports.xlsx import write_xlsx
from portal.masking import mask_numbers_in_text

__all__ = ["REPORT_FORMATS", "error_columns", "error_report_response"]

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_FORMATS = ("csv", "xlsx")


def error_columns(account) -> list[ExportColumn]:
    """Columns of the error report; phone numbers in the values are masked for mobile_secure accounts."""
    return [
        ExportColumn("Sheet", lambda error: error.sheet),
        ExportColumn("Row", lambda error: error.row),
        ExportColumn("Column", lambda error: error.column),
        ExportColumn("Value", lambda error: mask_numbers_in_text(error.value, account)),
        ExportColumn("Reason", lambda error: error.reason),
        ExportColumn("Code", lambda error: error.code),
    ]


def _filename(job: Import, extension: str) -> str:
    stem = job.file_name.rsplit(".", 1)[0][:60] or "import"
    return f"{stem}-errors.{extension}"


def error_report_response(job: Import, file_format: str):
    """A streamed CSV (with BOM, for Excel) or an XLSX of every row error, in file order."""
    errors = job.row_errors.order_by("position", "id").iterator(chunk_size=2000)
    columns = error_columns(job.account)
    if file_format == "csv":
        response = StreamingHttpResponse(iter_csv(columns, errors), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{_filename(job, "csv")}"'
        return response
    spool = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes (and so deletes) it when sent
    write_xlsx(columns, errors, spool, title="Errors")
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=_filename(job, "xlsx"), content_type=XLSX_TYPE)
