"""The contacts import target (see engine.py for the target interface).

Validation: the phone must be valid (rules.md "Phone numbers"); e-mail, gender, birth date and lengths are
checked; a "Name" column is split into first and last name when those are not mapped; a "Tags" cell is a
comma/semicolon list; unknown columns land in `attributes`. Any problem fails the row, reported per cell.

Modes: `create` writes only numbers not yet in the account; `upsert` creates or updates; `update` touches
only existing contacts. On update an empty cell never erases a value, fields in `keep_existing` are only
filled when empty, and attributes are merged. The identity of an existing contact is never changed. The
import group and tags (and a row's own tags) are linked to every contact the import wrote.

Opt-outs: an import never deletes or overrides an unsubscriber, so an opted-out number stays suppressed;
the rows whose number is opted out of all messages are counted (`opted_out`) so the report can say so.

Writing: each batch is staged in a temporary table (COPY on PostgreSQL, `executemany` on SQLite), then one
`INSERT … ON CONFLICT … RETURNING` (or `UPDATE … FROM … RETURNING`) statement writes it, the tag and group
links are one `INSERT … SELECT` each (two when the batch updated contacts too: only their links need the
conflict check), and the opted-out numbers are counted against the stage with the subquery of
`contacts.suppression`. Each batch first locks the tags and the group it links (`contacts.links`), and
links only those still there. PostgreSQL's planner gets `ANALYZE` on the stage and on contacts at the end.
"""

from __future__ import annotations

import datetime
import json
import re
import threading
from collections.abc import Hashable
from functools import lru_cache

import orjson
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from contacts.importing.engine import ImportJob, Problem, Record, WriteResult, register_target
from contacts.importing.mapping import CONTACT_FIELDS, MappedRow
from contacts.links import lock_for_linking
from contacts.models import Contact, Gender, Group, ImportKind, ImportMode, Tag
from contacts.phones import PhoneResult
from contacts.suppression import suppressed_receivers_q
from portal.ids import time_ordered_uids

__all__ = ["ContactTarget"]

TEXT_LIMITS = {"first_name": 100, "last_name": 100, "company": 100, "postal_code": 20, "identity": 100, "email": 254}
UPDATABLE_TEXT = ("email", "first_name", "last_name", "gender", "postal_code", "company")
GENDERS = {
    "f": Gender.FEMALE,
    "female": Gender.FEMALE,
    "w": Gender.FEMALE,
    "woman": Gender.FEMALE,
    "m": Gender.MALE,
    "male": Gender.MALE,
    "man": Gender.MALE,
    "o": Gender.OTHER,
    "other": Gender.OTHER,
    "x": Gender.OTHER,
}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y/%m/%d")
US_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d")
OPTIONAL_FIELDS = frozenset({"gender", "birth_date", "full_name", "tags"})
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TAG_SPLIT = re.compile(r"\s*[,;|]\s*")
STAGE_COLUMNS = (
    "phone",
    "country",
    "number_type",
    "identity",
    "email",
    "first_name",
    "last_name",
    "gender",
    "birth_date",
    "postal_code",
    "company",
    "attributes",
    "tag_ids",
    "uid",
    "new_identity",
)


def _text(value) -> str:
    """A cell as trimmed text with single spaces; integral floats without `.0`, dates in ISO form."""
    if type(value) is str:
        text = value.strip()
        return " ".join(text.split()) if "  " in text or "\t" in text or "\n" in text else text
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return " ".join(str(value).split())


def _json_value(value):
    if type(value) is str:
        return value.strip()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
        return value.isoformat()
    return value


def _json_text(value: dict) -> str:
    """`value` as JSON text: orjson (an eighth of `json.dumps`' time, per row of a million); `json` for what
    orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=4096)
def _tag_names(cell: str) -> tuple[str, ...]:
    """The tags of a Tags cell; files repeat a few tag sets over many rows, so each is split once."""
    return tuple(name for name in TAG_SPLIT.split(cell) if name)


def _birth_date(value, country: str) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    for fmt in US_DATE_FORMATS if country == "US" else DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


class ContactTarget:
    kind = ImportKind.CONTACTS
    fields = CONTACT_FIELDS
    # Batches never share a phone (the engine de-duplicates), so two can be written at once; what they share
    # (identities seen, tags resolved) is read and changed under `shared`.
    parallel_writes = True

    def __init__(self):
        self.tag_ids: dict[str, int] = {}
        self.import_tag_ids: list[int] = []
        self.seen_identities: set[str] = set()
        self.tag_lists: dict[tuple, str] = {}
        self.shared = threading.Lock()

    # -- validation ------------------------------------------------------------------------------------
    def clean(self, row: MappedRow, phones: dict[str, PhoneResult], job: ImportJob) -> Record | list[Problem]:
        fields = row.fields
        problems: list[Problem] = []
        values: dict = {}
        raw_phone = fields.get("phone")
        result = phones.get("phone")
        if raw_phone is None or (type(raw_phone) is str and not raw_phone.strip()):
            problems.append(Problem("phone", raw_phone, "missing_phone", "The phone number is empty."))
        elif result is None or not result.valid:
            reason = result.reason if result else "not a number"
            problems.append(Problem("phone", raw_phone, "invalid_phone", f"Invalid phone number: {reason}."))
        else:
            values["phone"] = result.e164
            values["country"] = result.country or ""
            values["number_type"] = result.number_type or ""
        for name, raw in fields.items():
            limit = TEXT_LIMITS.get(name)
            if limit is None or raw is None:
                continue
            text = _text(raw)
            if len(text) > limit:
                problems.append(Problem(name, raw, "too_long", f"Longer than {limit} characters."))
            elif text:
                values[name] = text
        if "email" in values and not EMAIL.match(values["email"]):
            problems.append(Problem("email", fields["email"], "invalid_email", "Not an e-mail address."))
        if fields.keys() & OPTIONAL_FIELDS:
            self._clean_optional(fields, values, problems, job)
        if problems:
            return problems
        values["attributes"] = {key: _json_value(value) for key, value in row.attributes.items()}
        return Record(row.sheet, row.number, values)

    def _clean_optional(self, fields: dict, values: dict, problems: list[Problem], job: ImportJob) -> None:
        gender = _text(fields.get("gender")).lower()
        if gender:
            if gender in GENDERS:
                values["gender"] = GENDERS[gender]
            else:
                problems.append(Problem("gender", fields["gender"], "invalid_gender", "Use female, male or other."))
        if fields.get("birth_date") not in (None, ""):
            try:
                values["birth_date"] = _birth_date(fields["birth_date"], job.country)
            except ValueError:
                problems.append(
                    Problem("birth_date", fields["birth_date"], "invalid_date", "Not a date (use YYYY-MM-DD).")
                )
        full_name = _text(fields.get("full_name"))
        if full_name and "first_name" not in values and "last_name" not in values:
            first, _, last = full_name.partition(" ")
            values["first_name"], values["last_name"] = first[:100], last[:100]
        tags = _text(fields.get("tags"))
        if tags:
            names = _tag_names(tags)
            if any(len(name) > 100 for name in names):
                problems.append(Problem("tags", fields["tags"], "too_long", "A tag is longer than 100 characters."))
            values["tags"] = names

    def key(self, record: Record) -> Hashable | None:
        return record.values["phone"]

    # -- writing ---------------------------------------------------------------------------------------
    def begin(self, job: ImportJob) -> None:
        self.seen_identities = set()
        if not job.dry_run:
            self.import_tag_ids = self._resolve_tags(job, job.record.tags or [])

    def end(self, job: ImportJob) -> None:
        if connection.vendor == "postgresql" and not job.dry_run:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE contacts_contact")

    def _resolve_tags(self, job: ImportJob, names: list[str]) -> list[int]:
        wanted = {name.strip().lower(): name.strip() for name in names if name.strip()}
        missing = [key for key in wanted if key not in self.tag_ids]
        if missing:
            account = job.account
            Tag.objects.bulk_create([Tag(account=account, name=wanted[key]) for key in missing], ignore_conflicts=True)
            found = (
                Tag.objects.for_account(account)
                .annotate(key=Lower("name"))
                .filter(key__in=missing)
                .values_list("key", "id")
            )
            self.tag_ids.update(found)
        return [self.tag_ids[key] for key in wanted if key in self.tag_ids]

    def _identity_problems(self, records: list[Record], job: ImportJob) -> tuple[list[Record], list]:
        """Identities repeated in the file or used by another phone of the account fail their row."""
        given = {record.values["identity"]: record for record in records if "identity" in record.values}
        if not given:
            return records, []
        taken = dict(
            Contact.objects.for_account(job.account).filter(identity__in=list(given)).values_list("identity", "phone")
        )
        problems, kept = [], []
        for record in records:
            identity = record.values.get("identity")
            if identity is None:
                kept.append(record)
                continue
            if identity in self.seen_identities:
                problems.append((record, Problem("identity", identity, "duplicate_identity", "Identity repeated.")))
            elif identity in taken and taken[identity] != record.values["phone"]:
                problems.append(
                    (record, Problem("identity", identity, "identity_taken", "Identity used by another contact."))
                )
            else:
                self.seen_identities.add(identity)
                kept.append(record)
        return kept, problems

    def write(self, records: list[Record], job: ImportJob) -> WriteResult:
        with self.shared:
            records, problems = self._identity_problems(records, job)
            row_tags = {name for record in records for name in record.values.get("tags", ())}
            if row_tags:
                self._resolve_tags(job, sorted(row_tags))
            tag_ids = [*self.import_tag_ids, *self.tag_ids.values()]
        with transaction.atomic():
            # The contacts the batch writes are locked by the write itself (`contacts.links`).
            lock_for_linking(Tag.objects.filter(pk__in=tag_ids))
            if job.record.group_id:
                lock_for_linking(Group.objects.filter(pk=job.record.group_id))
            result = self.write_batch(records, job)
        result.problems.extend(problems)
        return result

    def _tag_list(self, names: tuple[str, ...], postgres: bool) -> str:
        """The import's and these row tags' ids as an array literal; rows repeat a few tag sets, so each is
        worked out once."""
        key = (names, postgres)
        text = self.tag_lists.get(key)
        if text is None:
            own = [self.tag_ids[name.lower()] for name in names if name.lower() in self.tag_ids]
            ids = ",".join(map(str, dict.fromkeys(self.import_tag_ids + own)))
            text = self.tag_lists[key] = "{" + ids + "}" if postgres else "[" + ids + "]"
        return text

    # SQL (PostgreSQL and SQLite) --------------------------------------------------------------------------
    def _stage_row(self, record: Record, postgres: bool, uid: str, identity: str) -> tuple:
        """The staged columns of a record; `uid` and `identity` are used if it creates a contact."""
        values = record.values
        return (
            values["phone"],
            values["country"],
            values["number_type"],
            values.get("identity"),
            values.get("email"),
            values.get("first_name"),
            values.get("last_name"),
            values.get("gender"),
            values.get("birth_date"),
            values.get("postal_code"),
            values.get("company"),
            _json_text(values["attributes"]),
            self._tag_list(values.get("tags", ()), postgres),
            uid,
            identity,
        )

    @staticmethod
    def _set_clauses(job: ImportJob, new: str, postgres: bool) -> str:
        """SET list of an update: empty values never erase, `keep_existing` fields are only filled, attributes merge."""
        keep = job.keep_existing
        clauses = ["updated_at = %(now)s"]
        for name in UPDATABLE_TEXT:
            if name in keep:
                clauses.append(f"{name} = CASE WHEN c.{name} <> '' THEN c.{name} ELSE COALESCE({new}.{name}, '') END")
            else:
                clauses.append(f"{name} = COALESCE(NULLIF({new}.{name}, ''), c.{name})")
        first, second = ("c", new) if "birth_date" in keep else (new, "c")
        clauses.append(f"birth_date = COALESCE({first}.birth_date, {second}.birth_date)")
        older, newer = (new, "c") if "attributes" in keep else ("c", new)
        merged = (
            f"{older}.attributes || {newer}.attributes"
            if postgres
            else f"json_patch({older}.attributes, {newer}.attributes)"
        )
        clauses.append(f"attributes = {merged}")
        return ", ".join(clauses)

    def _write_statement(self, job: ImportJob, postgres: bool) -> str:
        """One statement that writes the staged batch and returns (id, phone, inserted) of each written contact."""
        if job.mode == ImportMode.UPDATE:
            return (
                "UPDATE contacts_contact AS c SET "
                + self._set_clauses(job, "s", postgres)
                + " FROM import_stage s WHERE c.account_id = %(account)s AND c.phone = s.phone"
                # PostgreSQL needs the target's alias here (the stage has a phone too); SQLite refuses it
                + (" RETURNING c.id, c.phone, false" if postgres else " RETURNING id, phone, false")
            )
        insert = (
            "INSERT INTO contacts_contact AS c (account_id, uid, created_at, updated_at, identity, phone, country,"
            " number_type, phone_valid, email, first_name, last_name, gender, birth_date, postal_code, company,"
            " attributes) SELECT %(account)s, s.uid, %(now)s, %(now)s, COALESCE(s.identity, s.new_identity), s.phone,"
            " s.country, s.number_type, true, COALESCE(s.email, ''), COALESCE(s.first_name, ''),"
            " COALESCE(s.last_name, ''), COALESCE(s.gender, ''), s.birth_date, COALESCE(s.postal_code, ''),"
            " COALESCE(s.company, ''), s.attributes FROM import_stage s WHERE true"
        )
        if job.mode == ImportMode.CREATE:
            return f"{insert} ON CONFLICT DO NOTHING RETURNING id, phone, true"
        inserted = "(xmax = 0)" if postgres else "(created_at = %(now)s)"
        conflict = " ON CONFLICT (account_id, phone) DO UPDATE SET " + self._set_clauses(job, "excluded", postgres)
        return f"{insert}{conflict} RETURNING id, phone, {inserted}"

    @staticmethod
    def _create_stage(cursor, postgres: bool) -> None:
        """Empty stage tables. PostgreSQL drops them at commit; a batch written inside a caller's transaction
        (an inline import in a test or a request) finds the previous batch's tables and empties them."""
        if postgres:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS import_stage (phone text, country text, number_type text,"
                " identity text, email text, first_name text, last_name text, gender text, birth_date date,"
                " postal_code text, company text, attributes jsonb, tag_ids bigint[], uid uuid, new_identity text)"
                " ON COMMIT DROP"
            )
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS import_written (contact_id bigint, phone text, inserted boolean)"
                " ON COMMIT DROP"
            )
        else:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS import_stage ({', '.join(STAGE_COLUMNS)})")
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS import_written (contact_id, phone, inserted)")
        cursor.execute("DELETE FROM import_stage")
        cursor.execute("DELETE FROM import_written")

    def _load_stage(self, cursor, records: list[Record], postgres: bool) -> None:
        ids = time_ordered_uids(2 * len(records))
        rows = (
            self._stage_row(record, postgres, uid, identity)
            for record, uid, identity in zip(records, ids[: len(records)], ids[len(records) :], strict=True)
        )
        if postgres:
            with cursor.copy(f"COPY import_stage ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute("ANALYZE import_stage (phone)")
            return
        placeholders = ", ".join(["%s"] * len(STAGE_COLUMNS))
        cursor.executemany(f"INSERT INTO import_stage VALUES ({placeholders})", list(rows))

    def write_batch(self, records: list[Record], job: ImportJob) -> WriteResult:
        """Stage the batch, write it with one statement, link tags and group, count opted-out numbers."""
        postgres = connection.vendor == "postgresql"
        now = timezone.now()
        params = {"account": job.account.pk, "now": now if postgres else connection.ops.adapt_datetimefield_value(now)}
        links = "CROSS JOIN LATERAL unnest(s.tag_ids) AS t(tag_id)" if postgres else ", json_each(s.tag_ids) AS t"
        tag_id = "t.tag_id" if postgres else "t.value"
        with connection.cursor() as cursor:
            self._create_stage(cursor, postgres)
            self._load_stage(cursor, records, postgres)
            statement = self._write_statement(job, postgres)
            if postgres:
                cursor.execute(f"WITH w AS ({statement}) INSERT INTO import_written SELECT * FROM w", params)
            else:
                cursor.execute(statement, params)
                cursor.executemany("INSERT INTO import_written VALUES (%s, %s, %s)", cursor.fetchall())
            cursor.execute("SELECT count(*) FILTER (WHERE inserted), count(*) FROM import_written")
            created, written = cursor.fetchone()
            # A contact this batch created has no links yet (no other transaction can see it): its links go in
            # without the conflict check, which costs about as much again; updated contacts keep it.
            linked = ((created, "w.inserted", ""), (written - created, "NOT w.inserted", " ON CONFLICT DO NOTHING"))
            for contacts, which, conflict in linked:
                if not contacts:
                    continue
                # Only tags and the group still there (one may have been deleted since the import began).
                cursor.execute(
                    f"INSERT INTO contacts_contacttag (contact_id, tag_id) SELECT w.contact_id, {tag_id}"
                    f" FROM import_written w JOIN import_stage s ON s.phone = w.phone {links}"
                    f" JOIN contacts_tag live ON live.id = {tag_id} WHERE {which}{conflict}"
                )
                if job.record.group_id:
                    cursor.execute(
                        "INSERT INTO contacts_groupmember (contact_id, group_id) SELECT w.contact_id, g.id"
                        f" FROM import_written w JOIN contacts_group g ON g.id = %s WHERE {which}{conflict}",
                        [job.record.group_id],
                    )
            suppressed, suppressed_params = suppressed_receivers_q(job.account).query.sql_with_params()
            cursor.execute(f"SELECT count(*) FROM import_stage WHERE phone IN ({suppressed})", suppressed_params)
            opted_out = cursor.fetchone()[0]
        return WriteResult(
            created=created, updated=written - created, skipped=len(records) - written, opted_out=opted_out
        )


register_target(ImportKind.CONTACTS, ContactTarget)
