"""Values read for exports: times in the account's time zone from the database's text, UUIDs from text."""

import uuid
import zoneinfo
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest

from portal.exports.values import local_times, uid_field

ZONES = ["Asia/Kolkata", "Europe/London", "America/St_Johns", "Australia/Lord_Howe", "UTC"]
# around the 2026 transitions of London (29 March, 25 October) and Lord Howe (5 April, 4 October: 30 minutes)
DAYS = ["2026-03-28", "2026-04-04", "2026-10-03", "2026-10-24", "2026-12-31"]


def instants():
    for day in DAYS:
        start = datetime.fromisoformat(f"{day}T00:00:00+00:00")
        yield from (start + timedelta(minutes=7 * step, microseconds=step % 3 * 1234) for step in range(600))


@pytest.mark.parametrize("zone", ZONES)
def test_local_times_match_zoneinfo_on_both_databases_texts(zone):
    convert = local_times(SimpleNamespace(time_zone=zone))
    for instant in instants():
        expected = instant.astimezone(zoneinfo.ZoneInfo(zone)).isoformat()
        postgres = instant.replace(tzinfo=None).isoformat(" ")  # PostgreSQL's text, without its "+00"
        assert convert(postgres + "+00") == expected, postgres
        assert convert(postgres) == expected, postgres  # SQLite's text: UTC without an offset
    assert convert(None) == ""


def test_uuid_text_from_either_database():
    value = uuid.uuid4()
    convert = uid_field("id", "uid").convert
    assert convert(str(value)) == convert(value.hex) == str(value)
    assert convert(None) == ""
