import pytest
from django.urls import reverse

from campaigns.models import BlockedTemplate, Sender, SenderStatus, Template, TemplateStatus
from campaigns.template_rules import validate_template
from campaigns.views.templates import highlight_segments
from portal.models import AuditEvent
from tests.campaigns.template_factories import OTP_BODY, PE_ID, make_sender, make_template

pytestmark = pytest.mark.django_db


def test_highlight_segments_cut_the_body_at_findings():
    body = "Hi  {{name}} from Acme"
    findings = validate_template(body, template_type="P", is_english=True)
    segments = highlight_segments(body, findings)
    assert "".join(s.text for s in segments).replace("·", " ") == body
    marked = [s for s in segments if s.severity]
    assert [(s.text, s.severity) for s in marked] == [("··", "error")]
    assert "consecutive spaces" in marked[0].title


@pytest.mark.parametrize(
    "url_name",
    ["campaigns:sender_list", "campaigns:template_list", "campaigns:blockedtemplate_list", "campaigns:sender_create"],
)
def test_pages_render(client_for, admin_user, account, url_name):
    make_template(account, make_sender(account))
    assert client_for(admin_user).get(reverse(url_name)).status_code == 200


def test_viewer_cannot_open_the_editor_or_the_review_queue(client_for, viewer):
    client = client_for(viewer)
    assert client.get(reverse("campaigns:template_create")).status_code == 403
    assert client.get(reverse("campaigns:review_queue")).status_code == 403


def test_sender_create_page_shows_field_errors(client_for, marketer):
    response = client_for(marketer).post(
        reverse("campaigns:sender_create"), {"name": "AB", "country_code": "IN", "service": "ENT"}
    )
    assert response.status_code == 422
    assert "exactly 6 letters" in response.content.decode()
    assert "PE ID" in response.content.decode()


def test_sender_create_redirects_to_the_detail(client_for, marketer):
    response = client_for(marketer).post(
        reverse("campaigns:sender_create"),
        {"name": "acmein", "country_code": "IN", "service": "ENT", "entity_id": PE_ID},
    )
    sender = Sender.objects.get()
    assert response.status_code == 302 and response.url == reverse("campaigns:sender_detail", args=[sender.uid])


def test_lint_partial_underlines_findings_and_disables_submit(client_for, marketer, account):
    sender = make_sender(account)
    client = client_for(marketer)
    data = {"name": "Order", "sender": str(sender.uid), "template_type": "SI", "is_english": "on"}
    response = client.post(
        reverse("campaigns:template_lint"),
        {**data, "body": "Hello  {{name}}, Acme order ready."},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert '<section id="lint-panel"' in html and "<html" not in html
    assert 'class="lint-error"' in html and "··" in html
    assert 'id="template-submit"' in html and "disabled" in html.split('id="template-submit"')[1].split(">")[0]
    fixed = client.post(
        reverse("campaigns:template_lint"),
        {**data, "body": "Hello {{name}}, Acme order ready."},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "lint-error" not in fixed
    assert "disabled" not in fixed.split('id="template-submit"')[1].split(">")[0]
    assert "GSM-7" in fixed and "<code>name</code>" in fixed


def test_template_editor_saves_and_refuses_errors(client_for, marketer, account):
    sender = make_sender(account)
    client = client_for(marketer)
    data = {"name": "Order", "sender": str(sender.uid), "template_type": "SI", "is_english": "on"}
    bad = client.post(reverse("campaigns:template_create"), {**data, "body": "Hi  {{name}} Acme order ready"})
    assert bad.status_code == 422 and not Template.objects.exists()
    good = client.post(reverse("campaigns:template_create"), {**data, "body": "Hi {{name}}, Acme order ready."})
    template = Template.objects.get()
    assert good.status_code == 302 and template.created_by == marketer


def test_review_from_the_desk_needs_a_reason_to_reject(client_for, compliance_user, account):
    template = make_template(account, make_sender(account))
    client = client_for(compliance_user)
    queue = client.get(reverse("campaigns:review_queue")).content.decode()
    assert template.name in queue
    url = reverse("campaigns:template_review", args=[template.uid])
    client.post(url, {"decision": "reject", "reason": ""})
    template.refresh_from_db()
    assert template.status == TemplateStatus.PENDING
    client.post(url, {"decision": "reject", "reason": "Add the brand"})
    template.refresh_from_db()
    assert (template.status, template.reason) == (TemplateStatus.REJECTED, "Add the brand")
    detail = client.get(reverse("campaigns:template_detail", args=[template.uid])).content.decode()
    assert "template.rejected" in detail and compliance_user.username in detail


def test_marketer_cannot_approve_from_the_ui(client_for, marketer, account):
    template = make_template(account, make_sender(account))
    response = client_for(marketer).post(
        reverse("campaigns:template_review", args=[template.uid]), {"decision": "approve"}
    )
    assert response.status_code == 403


def test_bulk_approve_from_the_desk(client_for, compliance_user, account):
    sender = make_sender(account, "ACMEPN", status=SenderStatus.PENDING)
    first = make_template(account, make_sender(account), name="Login code")
    second = make_template(account, first.sender, body="Acme order {{id}} is late.", name="Order late")
    client_for(compliance_user).post(
        reverse("campaigns:review_bulk_approve"),
        {"senders": [str(sender.uid)], "templates": [str(first.uid), str(second.uid)]},
    )
    assert Template.objects.filter(status=TemplateStatus.APPROVED).count() == 2
    sender.refresh_from_db()
    assert sender.status == SenderStatus.APPROVED
    assert AuditEvent.objects.filter(verb="template.approved").count() == 2


def test_staff_review_queue_spans_accounts(client_for, staff_user, account, other_account):
    from portal.accounts import add_member
    from portal.roles import Role

    add_member(account, staff_user, Role.COMPLIANCE)
    foreign = make_sender(other_account, "OTHERS", status=SenderStatus.PENDING, country_code="GB")
    client = client_for(staff_user)
    assert "OTHERS" not in client.get(reverse("campaigns:review_queue")).content.decode()
    assert "OTHERS" in client.get(reverse("campaigns:review_queue") + "?scope=all").content.decode()
    client.post(reverse("campaigns:sender_review", args=[foreign.uid]), {"decision": "approve"})
    foreign.refresh_from_db()
    assert foreign.status == SenderStatus.APPROVED


def test_compliance_cannot_review_another_accounts_object(client_for, compliance_user, other_account):
    foreign = make_sender(other_account, "OTHERS", status=SenderStatus.PENDING, country_code="GB")
    response = client_for(compliance_user).post(
        reverse("campaigns:sender_review", args=[foreign.uid]), {"decision": "approve"}
    )
    assert response.status_code == 404


def test_blocked_template_pages(client_for, compliance_user, account):
    client = client_for(compliance_user)
    client.post(reverse("campaigns:blockedtemplate_list"), {"template_id": "1107161234567890123"})
    blocked = BlockedTemplate.objects.get()
    client.post(reverse("campaigns:blockedtemplate_update", args=[blocked.uid]), {"action": "deactivate"})
    blocked.refresh_from_db()
    assert blocked.status == 0
    client.post(reverse("campaigns:blockedtemplate_clean"), {"confirm": "nope"})
    assert BlockedTemplate.objects.exists()
    client.post(reverse("campaigns:blockedtemplate_clean"), {"confirm": "DELETE ALL"})
    assert not BlockedTemplate.objects.exists()


def test_dlt_export_download(client_for, viewer, account):
    make_template(account, make_sender(account), OTP_BODY, status=TemplateStatus.APPROVED, name="Login OTP")
    response = client_for(viewer).get(reverse("campaigns:template_dlt_export"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
