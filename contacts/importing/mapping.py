"""Column mapping: which column of each sheet feeds which field, found from the header names.

Headers are compared after `normalize_header`: Unicode compatibility form, accents dropped, case folded,
punctuation turned into spaces ("Téléphone", "TELEPHONE" and "telephone." are the same word). A header
matches a field exactly (its compact form, so "First-Name" = "firstname") or, weaker, when it contains a
synonym as whole words ("Customer mobile number (with +)" → phone). Each field takes its best column and a
column feeds one field; ties go to the leftmost column. Synonyms include the common words of the languages
our users' CRMs export in (English, Spanish, Portuguese, French, German, Italian, Dutch, Indonesian/Malay,
Hindi, Arabic, Chinese, Russian): the names are data, so another language is one line.

The header row is the best-scoring of a sheet's first rows (a merged title above the header is skipped); a
sheet whose first row already holds data (a bare list of numbers) has no header and its columns are named by
letter (`A`, `B`, …). When no header names the phone field, the column whose values look most like phone
numbers feeds it.

Overrides map a header text (or a column letter) to a field name, to `ATTRIBUTE` (keep in attributes) or to
`IGNORE`. Columns nothing claims go to attributes under a key made from the header, or are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from contacts.importing.readers import Row

__all__ = [
    "ATTRIBUTE",
    "CONTACT_FIELDS",
    "IGNORE",
    "ColumnPlan",
    "FieldSpec",
    "MappedRow",
    "SheetMapping",
    "attribute_key",
    "column_letter",
    "looks_like_phone",
    "normalize_header",
    "plan_sheet",
]

ATTRIBUTE = "attribute"
IGNORE = "ignore"
HEADER_SCAN_ROWS = 10
_PHONE_CHARS = re.compile(r"^[\s+()\-./\d]+$")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    synonyms: tuple[str, ...] = ()
    required: bool = False
    is_phone: bool = False


CONTACT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec(
        "phone",
        "Phone",
        (
            "phone",
            "phone number",
            "phone no",
            "mobile",
            "mobile number",
            "mobile no",
            "mob",
            "mob no",
            "msisdn",
            "number",
            "cell",
            "cell phone",
            "cellphone",
            "cell number",
            "tel",
            "telephone",
            "telephone number",
            "contact number",
            "contact no",
            "whatsapp",
            "whatsapp number",
            "receiver",
            "recipient",
            "to",
            "telefono",
            "numero",
            "numero de telefono",
            "celular",
            "movil",
            "telefone",
            "telemovel",
            "portable",
            "numero de portable",
            "telephone portable",
            "handy",
            "handynummer",
            "mobilnummer",
            "telefonnummer",
            "rufnummer",
            "cellulare",
            "numero di telefono",
            "mobiel",
            "telefoonnummer",
            "nomor",
            "nomor hp",
            "no hp",
            "hp",
            "nombor telefon",
            "mobile phone",
            "मोबाइल",
            "फ़ोन",
            "फोन",
            "هاتف",
            "جوال",
            "رقم الهاتف",
            "手机",
            "手机号",
            "电话",
            "电话号码",
            "телефон",
            "мобильный",
        ),
        required=True,
        is_phone=True,
    ),
    FieldSpec(
        "first_name",
        "First name",
        (
            "first name",
            "firstname",
            "fname",
            "given name",
            "forename",
            "first",
            "nombre",
            "prenom",
            "vorname",
            "primeiro nome",
            "nome",
            "voornaam",
            "nama depan",
            "имя",
            "名",
        ),
    ),
    FieldSpec(
        "last_name",
        "Last name",
        (
            "last name",
            "lastname",
            "lname",
            "surname",
            "family name",
            "last",
            "apellido",
            "apellidos",
            "nom",
            "nom de famille",
            "nachname",
            "familienname",
            "sobrenome",
            "cognome",
            "achternaam",
            "nama belakang",
            "фамилия",
            "姓",
        ),
    ),
    FieldSpec("full_name", "Full name", ("name", "full name", "fullname", "customer name", "contact name", "nama")),
    FieldSpec(
        "email",
        "E-mail",
        ("email", "e mail", "email address", "mail", "correo", "correo electronico", "courriel", "e mail adresse"),
    ),
    FieldSpec("identity", "Identity", ("identity", "id", "customer id", "external id", "client id", "crm id")),
    FieldSpec("gender", "Gender", ("gender", "sex", "genero", "sexo", "sexe", "geschlecht")),
    FieldSpec(
        "birth_date",
        "Birth date",
        ("birth date", "birthdate", "date of birth", "dob", "birthday", "fecha de nacimiento", "geburtsdatum"),
    ),
    FieldSpec(
        "postal_code",
        "Postal code",
        ("postal code", "postcode", "zip", "zip code", "pin code", "pincode", "codigo postal", "code postal", "plz"),
    ),
    FieldSpec("company", "Company", ("company", "organisation", "organization", "employer", "empresa", "firma")),
    FieldSpec("tags", "Tags", ("tags", "tag", "labels", "label", "etiquetas", "segments")),
)


@dataclass(frozen=True)
class ColumnPlan:
    index: int
    header: str
    target: str
    attribute: str = ""

    @property
    def label(self) -> str:
        letter = column_letter(self.index)
        return f"{letter} ({self.header})" if self.header and self.header != letter else letter


@dataclass
class SheetMapping:
    sheet: str
    header_row: int | None
    columns: list[ColumnPlan] = field(default_factory=list)

    def column_for(self, target: str) -> ColumnPlan | None:
        return next((column for column in self.columns if column.target == target), None)

    def __post_init__(self) -> None:
        self.plan()

    def plan(self) -> None:
        """Precompute (index, name) pairs; `apply` runs once per row of a million-row file."""
        self._fields = [(c.index, c.target) for c in self.columns if c.target not in (ATTRIBUTE, IGNORE)]
        self._attributes = [(c.index, c.attribute) for c in self.columns if c.target == ATTRIBUTE]

    def apply(self, row: Row) -> MappedRow:
        values = row.values
        width = len(values)
        fields = {name: values[index] if index < width else None for index, name in self._fields}
        attributes = {}
        for index, key in self._attributes:
            if index < width:
                value = values[index]
                if value is not None and value != "":
                    attributes[key] = value
        return MappedRow(row.sheet, row.number, fields, attributes)


@dataclass
class MappedRow:
    sheet: str
    number: int
    fields: dict
    attributes: dict


def normalize_header(text: object) -> str:
    """Lower-case words without accents or punctuation: "  Téléphone-Portable " → "telephone portable"."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text))
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(_NON_WORD.sub(" ", stripped.casefold()).split())


def attribute_key(header: str) -> str:
    return normalize_header(header).replace(" ", "_")


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def looks_like_phone(value: object) -> bool:
    """A cell that is plausibly a phone number: a number of 6+ digits, or text of digits and separators."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return abs(value) >= 100_000
    text = str(value).strip()
    if not _PHONE_CHARS.match(text):
        return False
    return sum(char.isdigit() for char in text) >= 6


def _synonym_index(fields: Sequence[FieldSpec]) -> dict[str, str]:
    index: dict[str, str] = {}
    for spec in fields:
        for word in (spec.name.replace("_", " "), spec.label, *spec.synonyms):
            index.setdefault(normalize_header(word).replace(" ", ""), spec.name)
    return index


def _match_score(normalized: str, name: str, exact: Mapping[str, str], synonyms: Sequence[str]) -> int:
    """3 when the (normalised) header is the field's exact name or synonym, 2 when it holds a synonym as words."""
    if exact.get(normalized.replace(" ", "")) == name:
        return 3
    padded = f" {normalized} "
    return 2 if any(f" {synonym} " in padded for synonym in synonyms) else 0


def _header_score(row: Row, exact: Mapping[str, str]) -> int:
    if any(looks_like_phone(value) for value in row.values):
        return 0
    texts = [value for value in row.values if isinstance(value, str) and value.strip()]
    known = sum(1 for value in texts if normalize_header(value).replace(" ", "") in exact)
    if not known and len(texts) < 2:
        return 0
    return known * 3 + len(texts)


def find_header(head: Sequence[Row], fields: Sequence[FieldSpec]) -> Row | None:
    """The header row among a sheet's first rows, or None when the data starts at once."""
    exact = _synonym_index(fields)
    best, best_score = None, 0
    for row in head[:HEADER_SCAN_ROWS]:
        if looks_like_phone_row(row):
            break
        score = _header_score(row, exact)
        if score > best_score:
            best, best_score = row, score
    return best


def looks_like_phone_row(row: Row) -> bool:
    return any(looks_like_phone(value) for value in row.values)


def _auto_targets(headers: Sequence[str], fields: Sequence[FieldSpec]) -> dict[int, str]:
    exact = _synonym_index(fields)
    synonyms = [
        (spec.name, [synonym for synonym in map(normalize_header, spec.synonyms) if len(synonym) > 2])
        for spec in fields
    ]
    candidates = []
    for index, header in enumerate(headers):
        normalized = normalize_header(header)
        if not normalized:
            continue
        for name, words in synonyms:
            score = _match_score(normalized, name, exact, words)
            if score:
                candidates.append((-score, index, name))
    targets: dict[int, str] = {}
    for _score, index, name in sorted(candidates):
        if index not in targets and name not in targets.values():
            targets[index] = name
    return targets


def _phone_column(sample: Sequence[Row], width: int) -> int | None:
    best, best_hits = None, 0
    for index in range(width):
        hits = sum(1 for row in sample if index < len(row.values) and looks_like_phone(row.values[index]))
        if hits > best_hits:
            best, best_hits = index, hits
    return best


def _override_for(overrides: Mapping[str, str], header: str, letter: str) -> str | None:
    wanted = normalize_header(header)
    for key, target in overrides.items():
        if key == letter or (wanted and normalize_header(key) == wanted):
            return target or IGNORE
    return None


def plan_sheet(
    sheet: str,
    head: Sequence[Row],
    fields: Sequence[FieldSpec],
    *,
    overrides: Mapping[str, str] | None = None,
    unknown_to_attributes: bool = True,
) -> SheetMapping:
    """The mapping of one sheet from its first rows (`head`), with user overrides applied."""
    overrides = overrides or {}
    header = find_header(head, fields)
    width = max((len(row.values) for row in head), default=0)
    if header is not None:
        headers = [_header_text(value) for value in header.values] + [""] * (width - len(header.values))
        targets = _auto_targets(headers, fields)
        data = [row for row in head if row.number > header.number]
    else:
        headers = [""] * width
        targets = {}
        data = list(head)
    phone = next((spec.name for spec in fields if spec.is_phone), None)
    if phone and phone not in targets.values():
        column = _phone_column(data, width)
        if column is not None and column not in targets:
            targets[column] = phone
    valid_targets = {spec.name for spec in fields} | {ATTRIBUTE, IGNORE}
    columns = []
    for index, header_text in enumerate(headers):
        letter = column_letter(index)
        target = _override_for(overrides, header_text, letter)
        if target is None or target not in valid_targets:
            target = targets.get(index) or (ATTRIBUTE if unknown_to_attributes else IGNORE)
        name = header_text or letter
        attribute = attribute_key(name) if target == ATTRIBUTE else ""
        if target == ATTRIBUTE and not attribute:
            target = IGNORE
        columns.append(ColumnPlan(index, name, target, attribute))
    _drop_repeated_targets(columns)
    return SheetMapping(sheet, header.number if header else None, columns)


def _drop_repeated_targets(columns: list[ColumnPlan]) -> None:
    """An override may send two columns to one field: the leftmost wins, the others become attributes."""
    seen: set[str] = set()
    for position, column in enumerate(columns):
        if column.target in (ATTRIBUTE, IGNORE):
            continue
        if column.target in seen:
            columns[position] = ColumnPlan(column.index, column.header, ATTRIBUTE, attribute_key(column.header))
        seen.add(column.target)


def _header_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def describe(mapping: SheetMapping, fields: Iterable[FieldSpec]) -> list[dict]:
    """The mapping as plain data for the preview and the API."""
    labels = {spec.name: spec.label for spec in fields}
    return [
        {
            "column": column_letter(column.index),
            "header": column.header,
            "target": column.target,
            "label": labels.get(column.target, column.attribute if column.target == ATTRIBUTE else "—"),
        }
        for column in mapping.columns
    ]
