"""Import pages: upload → mapping preview → import → results; status polling; downloads; roles and scoping."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts.models import Contact, Import, ImportState
from tests.contacts import import_files

CSV = "Mobile,Nombre,Notes\n+447400123456,Ana,first\n12,Bob,bad\n+44 7400 123457,Cy,third\n"


def upload(client, text=CSV, name="people.csv", **fields):
    data = {"file": SimpleUploadedFile(name, text.encode()), "mode": "upsert", "tags": "march", **fields}
    return client.post(reverse("contacts:import_list"), data)


@pytest.fixture
def web(client_for, marketer):
    return client_for(marketer)


def test_upload_shows_the_mapping_and_a_preview_with_problems_before_writing(web):
    response = upload(web)
    job = Import.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("contacts:import_detail", args=[job.uid])
    page = web.get(response["Location"]).content.decode()
    assert "Check the columns" in page
    assert 'name="map:Mobile"' in page and '<option value="phone" selected>' in page
    assert 'class="cell-problem" title="Invalid phone number: too short' in page
    assert "→ +447400123457" in page
    assert Contact.objects.count() == 0 and job.state == ImportState.QUEUED


def test_changing_a_column_rerenders_only_the_preview(web):
    upload(web, "A,B\nx,+447400123456\n")
    job = Import.objects.get()
    response = web.post(
        reverse("contacts:import_preview", args=[job.uid]),
        {"map:A": "phone", "map:B": "ignore"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="import-preview"')
    assert "Invalid phone number" in html


def test_import_runs_and_shows_counts_errors_and_downloads(web):
    upload(web)
    job = Import.objects.get()
    response = web.post(reverse("contacts:import_start", args=[job.uid]), {"map:Notes": "ignore"})
    assert response.status_code == 302
    page = web.get(response["Location"]).content.decode()
    assert 'data-testid="count-created">2<' in page and 'data-testid="count-failed">1<' in page
    assert "too short" in page
    job.refresh_from_db()
    assert job.state == ImportState.DONE and job.mapping == {"Notes": "ignore"}
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Ana", "Cy"]
    assert Contact.objects.filter(attributes__has_key="notes").count() == 0
    status = web.get(reverse("contacts:import_status", args=[job.uid]), HTTP_HX_REQUEST="true").content.decode()
    assert status.lstrip().startswith('<article id="import-status"') and "hx-get" not in status
    report = web.get(reverse("contacts:import_errors", args=[job.uid, "csv"]))
    assert b"".join(report.streaming_content).decode("utf-8-sig").splitlines()[1].startswith(",3,A (Mobile),12,")
    assert web.get(reverse("contacts:import_errors", args=[job.uid, "xlsx"])).status_code == 200
    assert web.get(reverse("contacts:import_errors", args=[job.uid, "pdf"])).status_code == 404
    history = web.get(reverse("contacts:import_list")).content.decode()
    assert "people.csv" in history and "marketer@acme.example" in history


def test_a_running_import_polls_and_can_be_cancelled(web):
    upload(web)
    job = Import.objects.get()
    Import.objects.filter(pk=job.pk).update(report={}, state=ImportState.WRITING, rows_estimate=10, rows_read=4)
    page = web.get(reverse("contacts:import_detail", args=[job.uid])).content.decode()
    assert f'hx-get="{reverse("contacts:import_status", args=[job.uid])}"' in page
    assert '<progress value="40"' in page
    web.post(reverse("contacts:import_cancel", args=[job.uid]))
    assert Import.objects.get(pk=job.pk).cancel_requested is True


def test_unreadable_file_is_explained_on_the_mapping_page(web, tmp_path):
    path = import_files.password_protected_xlsx(tmp_path / "locked.xlsx", tmp_path)
    response = web.post(
        reverse("contacts:import_list"),
        {"file": SimpleUploadedFile("locked.xlsx", path.read_bytes()), "mode": "upsert"},
    )
    page = web.get(response["Location"]).content.decode()
    assert 'data-testid="import-file-error"' in page and "password-protected" in page


def test_delete_entry_keeps_contacts(web):
    upload(web)
    job = Import.objects.get()
    web.post(reverse("contacts:import_start", args=[job.uid]))
    response = web.post(reverse("contacts:import_delete", args=[job.uid]))
    assert response.status_code == 302 and not Import.objects.exists()
    assert Contact.objects.count() == 2


def test_viewer_sees_history_but_cannot_upload(client_for, viewer, web):
    upload(web)
    viewer_client = client_for(viewer)
    assert viewer_client.get(reverse("contacts:import_list")).status_code == 200
    assert upload(viewer_client).status_code == 403


def test_another_accounts_import_is_404(client_for, outsider, web):
    upload(web)
    job = Import.objects.get()
    other = client_for(outsider)
    assert other.get(reverse("contacts:import_detail", args=[job.uid])).status_code == 404
    assert other.get(reverse("contacts:import_errors", args=[job.uid, "csv"])).status_code == 404
