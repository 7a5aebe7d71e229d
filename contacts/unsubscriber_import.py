"""The unsubscribers target of the import engine (`contacts.importing.engine`), and starting such an import.

A file is a bare list of numbers or a table with a number column and optional `type` and `value` columns;
rows without their own type take the import's default scope (`Import.options` `type`/`value`). Numbers are
normalised by the engine (rules.md "Phone numbers"). Writing only ever adds opt-outs: an existing identical
opt-out is counted as skipped, nothing is updated or deleted, whatever the import mode.
"""

from collections.abc import Hashable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower

from contacts.importing.engine import ImportJob, Problem, Record, WriteResult, register_target
from contacts.importing.mapping import CONTACT_FIELDS, FieldSpec, MappedRow
from contacts.models.imports import Import, ImportKind, ImportMode
from contacts.models.unsubscribers import Unsubscriber, UnsubscriberSource, UnsubscriberType
from contacts.phones import PhoneResult
from contacts.services_imports import create_import, start_import
from contacts.services_unsubscribers import clean_scope
from portal.audit import record

__all__ = ["UNSUBSCRIBER_FIELDS", "UnsubscriberTarget", "start_unsubscriber_import"]

_PHONE_SYNONYMS = next(spec.synonyms for spec in CONTACT_FIELDS if spec.is_phone)
UNSUBSCRIBER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("receiver", "Receiver", _PHONE_SYNONYMS, required=True, is_phone=True),
    FieldSpec("type", "Type", ("type", "opt out type", "optout type", "unsubscriber type", "scope")),
    FieldSpec("value", "Value", ("value", "sender", "sender id", "product", "service", "tag")),
)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class UnsubscriberTarget:
    kind = ImportKind.UNSUBSCRIBERS
    fields = UNSUBSCRIBER_FIELDS

    def __init__(self):
        self.created = 0
        self.default_type, self.default_value = UnsubscriberType.ALL, ""

    def begin(self, job: ImportJob) -> None:
        options = job.record.options or {}
        self.default_type, self.default_value = clean_scope(options.get("type"), options.get("value"))

    def clean(self, row: MappedRow, phones: dict[str, PhoneResult], job: ImportJob) -> Record | list[Problem]:
        raw = row.fields.get("receiver")
        result = phones.get("receiver")
        problems: list[Problem] = []
        values: dict = {}
        if _text(raw) == "":
            problems.append(Problem("receiver", raw, "missing_phone", "The number is empty."))
        elif result is None or not result.valid:
            reason = result.reason if result else "not a number"
            problems.append(Problem("receiver", raw, "invalid_phone", f"Invalid phone number: {reason}."))
        else:
            values["receiver"], values["country"] = result.e164, result.country or ""
        row_type = _text(row.fields.get("type"))
        scope = (row_type, _text(row.fields.get("value"))) if row_type else (self.default_type, self.default_value)
        try:
            values["type"], values["value"] = clean_scope(*scope)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                problems.append(Problem(name, row.fields.get(name), f"invalid_{name}", " ".join(messages)))
        return problems or Record(row.sheet, row.number, values)

    def key(self, record: Record) -> Hashable | None:
        values = record.values
        return values["receiver"], values["type"], values["value"].lower()

    def write(self, records: list[Record], job: ImportJob) -> WriteResult:
        account = job.account
        present = set(
            Unsubscriber.objects.for_account(account)
            .filter(receiver__in={r.values["receiver"] for r in records})
            .annotate(value_key=Lower("value"))
            .values_list("receiver", "type", "value_key")
        )
        creator = job.record.created_by
        rows = [
            Unsubscriber(account=account, source=UnsubscriberSource.IMPORT, created_by=creator, **r.values)
            for r in records
            if self.key(r) not in present
        ]
        with transaction.atomic():
            Unsubscriber.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        self.created += len(rows)
        return WriteResult(created=len(rows), skipped=len(records) - len(rows))

    def end(self, job: ImportJob) -> None:
        if job.dry_run or not self.created:
            return
        after = {"import": str(job.record.uid), "file": job.record.file_name, "created": self.created}
        record(job.account, job.record.created_by, "unsubscriber.imported", job.record, after=after)


register_target(ImportKind.UNSUBSCRIBERS, UnsubscriberTarget)


def start_unsubscriber_import(account, user, upload, *, type: str | None = None, value: str | None = None) -> Import:
    """Queue (or, for a small file, run at once) an import of opt-outs with this default scope."""
    kind, text = clean_scope(type, value)
    job = create_import(
        account,
        user,
        upload,
        kind=ImportKind.UNSUBSCRIBERS,
        mode=ImportMode.CREATE,
        options={"type": kind, "value": text},
    )
    return start_import(job)


def import_summary(job: Import, *, max_errors: int = 100) -> dict:
    """An import's state, counts and first row errors, for the API and the import page."""
    errors = job.row_errors.all()[:max_errors]
    return {
        "id": str(job.uid),
        "file_name": job.file_name,
        "state": job.state,
        "progress": job.progress_percent,
        "rows_read": job.rows_read,
        "created": job.created,
        "skipped": job.skipped,
        "duplicates": job.duplicates,
        "failed": job.failed,
        "error": job.error_message,
        "errors": [
            {"row": e.row, "column": e.column, "value": e.value, "code": e.code, "reason": e.reason} for e in errors
        ],
    }
