"""Export jobs and pages: the Export buttons of the lists, the Exports page (progress, download), progress while
running, failures, and the beat task deleting expired exports with their files."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from portal.exports import services
from portal.exports.tasks import purge_exports
from portal.models import Export, ExportState
from tests.portal.exports_support import body_of, inbound, message, run_export, table

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_message_log_button_exports_the_lists_filters(
    client_for, marketer, account, django_capture_on_commit_callbacks
):
    message(account)
    message(account, recipient="+919876500001", state="failed")
    client = client_for(marketer)
    page = client.get("/campaigns/messages/?status=delivered&page=1").content.decode()
    assert 'action="/campaigns/messages/export/"' in page and 'name="query" value="status=delivered&amp;page=1"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/campaigns/messages/export/", {"format": "xlsx", "query": "status=delivered&page=1"})
    assert response.status_code == 302 and response["Location"] == "/settings/exports/"
    export = Export.objects.get(account=account)
    assert (export.kind, export.format, export.state) == ("messages", "xlsx", "done")
    assert export.filters == {"status": "delivered"}
    listing = client.get("/settings/exports/").content.decode()
    assert f"/settings/exports/{export.uid}/download/" in listing and "hx-get" not in listing
    download = client.get(f"/settings/exports/{export.uid}/download/")
    assert download["Content-Disposition"].startswith(f'attachment; filename="{export.file_name}"')
    assert [row["mobile"] for row in table(body_of(download), "xlsx")] == ["+919876543210"]


def test_delivery_report_and_inbound_buttons(client_for, viewer, account, django_capture_on_commit_callbacks):
    inbound(account, text="START")
    client = client_for(viewer)
    assert 'action="/contacts/inbound/export/"' in client.get("/contacts/inbound/?q=START").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/contacts/inbound/export/", {"format": "csv", "query": "q=START"})
        client.post("/campaigns/messages/delivery-reports/export/", {"format": "csv", "query": ""})
    kinds = dict(Export.objects.values_list("kind", "filters"))
    assert kinds == {"inbound": {"q": "START"}, "delivery_reports": {}}
    assert set(Export.objects.values_list("state", flat=True)) == {"done"}


def test_refused_filters_go_back_to_the_list_with_the_reason(client_for, marketer, account):
    client = client_for(marketer)
    response = client.post("/campaigns/messages/export/", {"format": "csv", "query": "status=lost"}, follow=True)
    assert response.redirect_chain[-1][0] == "/campaigns/messages/?status=lost"
    assert "filter[status]" in response.content.decode()
    assert client.post("/contacts/export/", {"format": "pdf", "query": ""}).status_code == 302
    assert not Export.objects.exists()


def test_exports_page_polls_while_a_job_runs(client_for, viewer, account, other_account):
    running = Export.objects.create(
        account=account, kind="messages", state=ExportState.RUNNING, progress=40, rows=400, rows_total=1000,
        file_name="messages-x.csv", expires_at=timezone.now() + timedelta(days=7),
    )  # fmt: skip
    theirs = Export.objects.create(
        account=other_account, kind="contacts", file_name="theirs.csv", expires_at=timezone.now() + timedelta(days=7)
    )
    client = client_for(viewer)
    partial = client.get("/settings/exports/", headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="export-rows"') and 'hx-trigger="load delay:1s"' in partial
    assert '<progress value="40" max="100"' in partial and "400 of 1,000" in partial
    assert "theirs.csv" not in partial
    assert client.get(f"/settings/exports/{theirs.uid}/download/").status_code == 404
    assert client.get(f"/settings/exports/{running.uid}/download/").status_code == 404
    assert "Exports" in client.get("/").content.decode()


def test_progress_is_stored_while_rows_are_written(api, account, monkeypatch, django_capture_on_commit_callbacks):
    for n in range(7):
        message(account, recipient=f"+91987650000{n}")
    monkeypatch.setattr(services, "PROGRESS_ROWS", 3)
    stored = []
    store = services._Progress._store
    monkeypatch.setattr(
        services._Progress, "_store", lambda self, written: stored.append(written) or store(self, written)
    )
    export, _ = run_export(api(), django_capture_on_commit_callbacks, "messages")
    assert stored == [3, 6]  # on PostgreSQL from a thread of its own (the rows are read inside a transaction)
    assert export["rows"] == 7 and export["progress"] == 100


def test_progress_percent_stops_short_of_done(account):
    export = Export.objects.create(
        account=account, kind="messages", file_name="m.csv", expires_at=timezone.now() + timedelta(days=1)
    )
    services._Progress(export.pk, 7, threaded=False)._store(6)
    export.refresh_from_db()
    assert (export.rows, export.progress) == (6, 85)
    services._Progress(export.pk, 6, threaded=False)._store(6)
    export.refresh_from_db()
    assert export.progress == 99


def test_an_xlsx_too_large_fails_with_the_reason(api, account, monkeypatch, django_capture_on_commit_callbacks):
    message(account)
    message(account, recipient="+919876500001")
    monkeypatch.setattr(services, "XLSX_MAX_ROWS", 2)
    client = api()
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post("/api/v2/exports", {"kind": "messages", "format": "xlsx"}, format="json")
    export = client.get(f"/api/v2/exports/{created.json()['data']['id']}").json()["data"]
    assert export["state"] == "failed" and "choose CSV" in export["error"] and export["download_url"] is None
    assert not list(Path(default_storage.location).rglob("*.xlsx*"))


def test_purge_deletes_expired_exports_and_their_files(api, account, django_capture_on_commit_callbacks, settings):
    settings.EXPORT_KEEP_DAYS = 2
    message(account)
    client = api()
    old, _ = run_export(client, django_capture_on_commit_callbacks, "messages")
    new, _ = run_export(client, django_capture_on_commit_callbacks, "messages", "xlsx")
    old_row = Export.objects.get(uid=old["id"])
    assert abs(old_row.expires_at - old_row.created_at - timedelta(days=2)) < timedelta(seconds=1)
    path = Path(old_row.file.path)
    assert path.exists()
    Export.objects.filter(pk=old_row.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    stale = Export.objects.create(
        account=account, kind="inbound", state=ExportState.RUNNING, file_name="stale.csv",
        expires_at=timezone.now() + timedelta(days=1),
    )  # fmt: skip
    Export.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    assert purge_exports() == 1
    assert not path.exists() and not Export.objects.filter(uid=old["id"]).exists()
    assert Path(Export.objects.get(uid=new["id"]).file.path).exists()
    stale.refresh_from_db()
    assert stale.state == ExportState.FAILED and "worker ended" in stale.error
    assert client.get(f"/api/v2/exports/{old['id']}").status_code == 404


def test_a_run_is_claimed_once(account):
    export = Export.objects.create(
        account=account, kind="messages", file_name="m.csv", expires_at=timezone.now() + timedelta(days=1)
    )
    assert services.run_export(export.pk) == ExportState.DONE
    assert services.run_export(export.pk) == "skipped"
    assert services.run_export(10**9) == "skipped"
