"""`GET /contacts/imports` with 150 stored imports: the list never loads reports, counts errors in one query, and
one import's detail still has its report."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.models import Import, ImportRowError, ImportState

URL = "/api/v2/contacts/imports"
IMPORTS = 150
HEAVY = ('"report"', '"options"')
IMPORT_TABLE = re.compile(r'FROM "contacts_import"\s')
ERROR_COUNT_ALONE = re.compile(r'^SELECT [^()]*\([^()]*\)[^()]* FROM "contacts_importrowerror"')


def big_report(index: int) -> dict:
    """What a 1,000-column import leaves: its mapping described column by column (about 100 KB)."""
    columns = [
        {"column": f"C{column}", "header": f"Header {column}", "target": "attribute", "label": f"header_{column}"}
        for column in range(1000)
    ]
    return {"sheets": [{"name": "Sheet", "header_row": 1, "columns": columns}], "errors_stored": index % 4}


@pytest.fixture
def stored_imports(account, other_account):
    jobs = Import.objects.bulk_create(
        Import(
            account=account,
            file_name=f"file-{index:03d}.csv",
            file=f"imports/{account.pk}/{index}/upload",
            file_size=1000 + index,
            state=ImportState.DONE,
            rows_read=10,
            created=10 - index % 4,
            failed=index % 4,
            report=big_report(index),
            options={"note": "x" * 10_000},
        )
        for index in range(IMPORTS)
    )
    started = timezone.now() - timedelta(days=1)
    for index, job in enumerate(jobs):  # one second apart, file-149.csv the newest
        Import.objects.filter(pk=job.pk).update(created_at=started + timedelta(seconds=index))
    ImportRowError.objects.bulk_create(
        ImportRowError(job=job, row=row + 2, code="invalid_phone", reason="Not a phone number.")
        for index, job in enumerate(jobs)
        for row in range(index % 4)
    )
    Import.objects.create(account=other_account, file_name="theirs.csv", file="imports/x/upload", report=big_report(0))
    return jobs


def import_queries(captured) -> list[str]:
    return [query["sql"] for query in captured if IMPORT_TABLE.search(query["sql"])]


def test_list_selects_no_report_and_counts_errors_in_the_same_query(api, stored_imports):
    client = api("marketer")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, {"per_page": 100})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["total"] == IMPORTS

    queries = import_queries(captured)
    assert queries, [query["sql"] for query in captured]
    for sql in queries:
        for column in HEAVY:
            assert f'"contacts_import".{column}' not in sql, sql
    assert any('"contacts_importrowerror"' in sql for sql in queries)  # the error counts, as a subquery
    assert not [query["sql"] for query in captured if ERROR_COUNT_ALONE.match(query["sql"])]
    assert len(captured) <= 10, [query["sql"] for query in captured]
    assert len(response.content) < 200_000  # 100 reports of about 100 KB each were sent before

    items = body["data"]
    assert len(items) == 100
    assert [item["file_name"] for item in items[:3]] == ["file-149.csv", "file-148.csv", "file-147.csv"]
    by_name = {item["file_name"]: item for item in items}
    for index in range(IMPORTS - 100, IMPORTS):
        item = by_name[f"file-{index:03d}.csv"]
        assert item["errors_count"] == index % 4
        assert item["counts"]["failed"] == index % 4
        assert item["state"] == "done" and item["progress"] == 100
        assert "report" not in item
    assert "theirs.csv" not in by_name


def test_detail_still_returns_the_report_and_its_error_count(api, stored_imports):
    client = api("marketer")
    job = stored_imports[7]
    data = client.get(f"{URL}/{job.uid}").json()["data"]
    assert data["report"] == big_report(7)
    assert data["errors_count"] == 3
