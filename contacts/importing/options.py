"""Reading the options of a new import from a form or an API request (one place for both)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from contacts.importing.engine import target_for
from contacts.importing.mapping import ATTRIBUTE, IGNORE
from contacts.models import Group, ImportKind, ImportMode

__all__ = ["ImportOptions", "parse_import_options"]

TRUE_WORDS = {"1", "true", "yes", "on"}


@dataclass
class ImportOptions:
    mode: str = ImportMode.UPSERT
    keep_existing: list[str] = field(default_factory=list)
    group: Group | None = None
    tags: list[str] = field(default_factory=list)
    mapping: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False

    def as_kwargs(self) -> dict:
        return {
            "mode": self.mode,
            "keep_existing": self.keep_existing,
            "group": self.group,
            "tags": self.tags,
            "mapping": self.mapping,
            "dry_run": self.dry_run,
        }


def _list(data, name: str) -> list[str]:
    """A list given as repeated fields, a JSON array or a comma-separated string."""
    values = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
    if isinstance(values, str):
        values = [values]
    items: list[str] = []
    for value in values:
        if isinstance(value, str) and value.strip().startswith("["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValidationError({name: "Not a JSON array."}) from exc
        if isinstance(value, list):
            items.extend(str(item).strip() for item in value)
        else:
            items.extend(part.strip() for part in str(value).split(","))
    return [item for item in items if item]


def parse_mapping(raw, kind: str = ImportKind.CONTACTS) -> dict[str, str]:
    """`{"header or column letter": "field" | "attribute" | "ignore"}` from a dict or its JSON text."""
    if raw in (None, ""):
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError({"mapping": "Not a JSON object."}) from exc
    if not isinstance(raw, dict):
        raise ValidationError({"mapping": "A JSON object of column → field."})
    allowed = {spec.name for spec in target_for(kind).fields} | {ATTRIBUTE, IGNORE}
    unknown = sorted({str(value) for value in raw.values() if str(value) not in allowed and value not in ("", None)})
    if unknown:
        raise ValidationError({"mapping": f"Unknown field(s): {', '.join(unknown)}. Use one of {sorted(allowed)}."})
    return {str(key): str(value or IGNORE) for key, value in raw.items()}


def parse_import_options(data, account, kind: str = ImportKind.CONTACTS) -> ImportOptions:
    """Validate mode, keep_existing, group (uid or name), tags, mapping and dry_run; ValidationError per field."""
    options = ImportOptions()
    mode = (data.get("mode") or ImportMode.UPSERT).strip().lower()
    if mode not in ImportMode.values:
        raise ValidationError({"mode": f"Use one of {', '.join(ImportMode.values)}."})
    options.mode = mode
    fields = {spec.name for spec in target_for(kind).fields} | {"attributes"}
    options.keep_existing = _list(data, "keep_existing")
    unknown = [name for name in options.keep_existing if name not in fields]
    if unknown:
        raise ValidationError({"keep_existing": f"Unknown field(s): {', '.join(unknown)}."})
    group = (data.get("group") or "").strip() if isinstance(data.get("group"), str) else data.get("group")
    if group:
        from contacts.services import groups_by_reference

        try:
            options.group = groups_by_reference(account, [group])[0]
        except ValidationError as exc:
            raise ValidationError({"group": exc.messages}) from None
    options.tags = _list(data, "tags")
    if any(len(tag) > 100 for tag in options.tags):
        raise ValidationError({"tags": "A tag is longer than 100 characters."})
    options.mapping = parse_mapping(data.get("mapping"), kind)
    dry_run = data.get("dry_run")
    options.dry_run = dry_run is True or str(dry_run).strip().lower() in TRUE_WORDS
    return options
