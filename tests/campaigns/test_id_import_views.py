"""Compliance uploads files of template ids: blocked templates and DLT ids, with row errors and clear refusals."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import BlockedTemplate, Template
from tests.campaigns.sending_support import approved_sender, approved_template

pytestmark = pytest.mark.django_db


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def flashes(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_blocked_template_ids_import_reports_counts_and_rows(client_for, compliance_user, account):
    response = client_for(compliance_user).post(
        "/campaigns/blocked-templates/import/", {"file": upload("ids.csv", "1107161234567890\nabc\n")}, follow=True
    )
    assert BlockedTemplate.objects.filter(account=account).count() >= 1
    assert any(text.startswith("Imported: ") for text in flashes(response))


def test_dlt_ids_import_sets_ids_by_template_name(client_for, compliance_user, account):
    template = approved_template(account, approved_sender(account), "Acme sale today in all stores", name="Sale")
    csv_text = "Template Name,DLT Template ID\nSale,1107160000000001\nNo such template,1107160000000002\n"
    response = client_for(compliance_user).post(
        "/campaigns/templates/dlt-import/", {"file": upload("dlt.csv", csv_text)}, follow=True
    )
    template.refresh_from_db()
    assert template.dlt_template_id == "1107160000000001"
    messages = flashes(response)
    assert "DLT ids: 1 updated, 0 unchanged." in messages and any(text.startswith("Row 3:") for text in messages)


def test_a_file_without_the_columns_is_refused_clearly(client_for, compliance_user):
    response = client_for(compliance_user).post(
        "/campaigns/templates/dlt-import/", {"file": upload("x.csv", "a,b\n1,2\n")}, follow=True
    )
    assert any("DLT Template ID" in text for text in flashes(response))


def test_marketers_cannot_upload_ids(client_for, marketer):
    response = client_for(marketer).post("/campaigns/blocked-templates/import/", {"file": upload("ids.csv", "1\n")})
    assert response.status_code == 403
    assert not Template.objects.exists()
