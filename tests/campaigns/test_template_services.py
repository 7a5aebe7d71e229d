import pytest
from django.core.exceptions import ValidationError

from campaigns import services
from campaigns.models import BlockedTemplate, SenderStatus, TemplateStatus, TemplateVersion
from portal.models import AuditEvent, Notification
from tests.campaigns.template_factories import OTP_BODY, PE_ID, make_sender, make_template

pytestmark = pytest.mark.django_db


def test_create_sender_upper_cases_indian_names_and_starts_pending(account, marketer):
    sender = services.create_sender(
        account, acting_user=marketer, name="acmein", country_code="in", service="ENT", entity_id=PE_ID
    )
    assert (sender.name, sender.country_code, sender.status) == ("ACMEIN", "IN", SenderStatus.PENDING)
    assert AuditEvent.objects.filter(verb="sender.created", object_id=str(sender.uid)).exists()


def test_create_sender_reports_errors_per_field(account, marketer):
    with pytest.raises(ValidationError) as caught:
        services.create_sender(account, acting_user=marketer, name="AB", country_code="IN", service="ENT")
    assert set(caught.value.message_dict) == {"name", "entity_id"}


def test_duplicate_sender_is_a_conflict(account, marketer):
    make_sender(account, "ACMEIN")
    with pytest.raises(services.Conflict):
        services.create_sender(
            account, acting_user=marketer, name="ACMEIN", country_code="IN", service="ENT", entity_id=PE_ID
        )


def test_sender_name_cannot_change(account, marketer):
    sender = make_sender(account)
    with pytest.raises(ValidationError) as caught:
        services.update_sender(sender, acting_user=marketer, name="OTHERS")
    assert "apply for a new sender ID" in caught.value.message_dict["name"][0]


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"service": "BNK"}, SenderStatus.PENDING),
        ({"country_code": "GB", "entity_id": ""}, SenderStatus.PENDING),
        ({"entity_id": "1201159876543210000"}, SenderStatus.APPROVED),
    ],
)
def test_editing_country_or_service_of_an_approved_sender_sends_it_back(account, marketer, change, status):
    sender = services.update_sender(make_sender(account, "ACMEIN"), acting_user=marketer, **change)
    assert sender.status == status


def test_sender_review_state_machine(account, marketer, compliance_user):
    sender = services.create_sender(
        account, acting_user=marketer, name="ACMEIN", country_code="IN", service="ENT", entity_id=PE_ID
    )
    with pytest.raises(ValidationError):
        services.reject_sender(sender, acting_user=compliance_user, reason=" ")
    sender = services.approve_sender(sender, acting_user=compliance_user)
    assert (sender.status, sender.reviewed_by) == (SenderStatus.APPROVED, compliance_user)
    with pytest.raises(services.Conflict):
        services.approve_sender(sender, acting_user=compliance_user)
    event = AuditEvent.objects.get(verb="sender.approved")
    assert (event.before["status"], event.after["status"], event.actor) == (0, 1, compliance_user)
    assert Notification.objects.filter(user=marketer, text__contains="approved").exists()


def test_template_needs_an_approved_sender(account, marketer):
    pending = make_sender(account, status=SenderStatus.PENDING)
    with pytest.raises(ValidationError) as caught:
        services.create_template(
            account, acting_user=marketer, name="OTP", body=OTP_BODY, sender=pending, template_type="SI"
        )
    assert "not approved" in caught.value.message_dict["sender"][0]


def test_template_rule_errors_block_the_save_and_warnings_are_returned(account, marketer):
    sender = make_sender(account)
    with pytest.raises(ValidationError) as caught:
        services.create_template(
            account, acting_user=marketer, name="Test 1", body="Hi  {{name}}", sender=sender, template_type="T"
        )
    assert set(caught.value.message_dict) == {"body", "name", "template_type"}
    saved = services.create_template(
        account,
        acting_user=marketer,
        name="Order",
        body="Order {{id}} shipped today.",
        sender=sender,
        template_type="SI",
    )
    assert [w.code for w in saved.warnings] == ["missing_brand_name"]
    assert saved.template.alias == "order"


def test_same_body_under_another_sender_is_refused(account, marketer):
    first, second = make_sender(account, "ACMEIN"), make_sender(account, "ACMEOT")
    make_template(account, first, OTP_BODY)
    with pytest.raises(ValidationError) as caught:
        services.create_template(
            account, acting_user=marketer, name="OTP again", body=OTP_BODY, sender=second, template_type="SI"
        )
    assert "ACMEIN" in caught.value.message_dict["body"][0]


def test_duplicate_alias_is_a_conflict(account, marketer):
    sender = make_sender(account)
    make_template(account, sender, name="Order", alias="order")
    with pytest.raises(services.Conflict):
        services.create_template(
            account,
            acting_user=marketer,
            name="Order",
            body="Acme order {{id}} is late.",
            sender=sender,
            template_type="SI",
        )


def test_template_review_and_body_edit_sends_approved_back_to_pending(account, marketer, compliance_user):
    sender = make_sender(account)
    saved = services.create_template(
        account, acting_user=marketer, name="OTP", body=OTP_BODY, sender=sender, template_type="SI"
    )
    template = services.approve_template(saved.template, acting_user=compliance_user)
    assert template.status == TemplateStatus.APPROVED
    template = services.update_template(template, acting_user=marketer, name="Login OTP").template
    assert template.status == TemplateStatus.APPROVED
    template = services.update_template(
        template, acting_user=marketer, body="Your Acme login OTP is {{otp}}. Do not share it."
    ).template
    assert (template.status, template.version, template.reviewed_by) == (TemplateStatus.PENDING, 2, None)
    assert list(TemplateVersion.objects.filter(template=template).values_list("version", flat=True)) == [2, 1]
    verbs = list(AuditEvent.objects.filter(object_id=str(template.uid)).values_list("verb", flat=True))
    assert verbs == ["template.updated", "template.updated", "template.approved", "template.created"]


def test_reject_template_requires_a_reason_and_tells_the_author(account, marketer, compliance_user):
    template = make_template(account, make_sender(account), created_by=marketer)
    with pytest.raises(ValidationError):
        services.reject_template(template, acting_user=compliance_user, reason="")
    template = services.reject_template(template, acting_user=compliance_user, reason="Brand missing")
    assert (template.status, template.reason) == (TemplateStatus.REJECTED, "Brand missing")
    note = Notification.objects.get(user=marketer)
    assert "Brand missing" in note.text and str(template.uid) in note.link
    with pytest.raises(services.Conflict):
        services.reject_template(template, acting_user=compliance_user, reason="again")


def test_editing_a_rejected_template_resubmits_it(account, marketer):
    template = make_template(account, make_sender(account), status=TemplateStatus.REJECTED, reason="No brand")
    template = services.update_template(template, acting_user=marketer, body="Your Acme PIN is {{pin}} today.").template
    assert (template.status, template.reason) == (TemplateStatus.PENDING, "")


def test_bulk_approve_skips_what_cannot_be_approved(account, compliance_user):
    pending_sender = make_sender(account, "ACMEPN", status=SenderStatus.PENDING)
    ok = make_template(account, make_sender(account), name="Ok")
    waiting = make_template(account, pending_sender, body="Acme order {{id}} ready.", name="Waiting")
    approved = make_template(account, ok.sender, body="Acme order {{id}} late.", name="Done", status="approved")
    result = services.bulk_approve([ok, waiting, approved], acting_user=compliance_user)
    assert [t.pk for t in result.approved] == [ok.pk]
    assert {obj.pk for obj, _ in result.skipped} == {waiting.pk, approved.pk}


def test_blocked_template_import_reports_rows_and_skips_existing(account, compliance_user):
    BlockedTemplate.objects.create(account=account, template_id="1107000000000000001")
    rows = [(1, "1107000000000000001"), (2, 123456.0), (3, "x" * 65), (4, "1107000000000000003"), (5, 1.1e18)]
    summary = services.import_blocked_templates(account, acting_user=compliance_user, rows=rows)
    assert (summary.created, summary.existing) == (2, 1)
    assert [row for row, _ in summary.errors] == [3, 5]
    assert "lost digits" in summary.errors[1][1]
    assert set(BlockedTemplate.objects.for_account(account).values_list("template_id", flat=True)) == {
        "1107000000000000001",
        "123456",
        "1107000000000000003",
    }


def test_clean_blocked_templates_removes_only_this_account(account, other_account, compliance_user):
    BlockedTemplate.objects.create(account=account, template_id="1")
    BlockedTemplate.objects.create(account=other_account, template_id="1")
    assert services.clean_blocked_templates(account, acting_user=compliance_user).row_count == 1
    assert BlockedTemplate.objects.count() == 1
    assert services.clean_blocked_templates(account, acting_user=compliance_user) is None


def test_dlt_ids_import_by_name_or_alias(account, compliance_user):
    sender = make_sender(account)
    first = make_template(account, sender, name="Login OTP")
    second = make_template(account, sender, body="Acme order {{id}} late.", name="Order late")
    rows = [
        (2, "login otp", "1107161234567890123"),
        (3, "order-late", "1107161234567890124"),
        (4, "nope", "1"),
        (5, "Login OTP", "abc"),
    ]
    summary = services.import_dlt_template_ids(account, acting_user=compliance_user, rows=rows)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.dlt_template_id, second.dlt_template_id) == ("1107161234567890123", "1107161234567890124")
    assert [row for row, _ in summary.errors] == [4, 5]


def test_demo_data_has_senders_and_templates_in_each_status(account, admin_user):
    from campaigns.demo import load
    from campaigns.models import Sender, Template

    load(account, admin_user)
    assert set(Sender.objects.for_account(account).values_list("status", flat=True)) == {0, 1, 2}
    assert set(Template.objects.for_account(account).values_list("status", flat=True)) == {
        "pending",
        "approved",
        "rejected",
    }
    load(account, admin_user)
    assert Sender.objects.for_account(account).count() == 4


def test_browser_line_breaks_are_stored_as_lf_and_linted(account, marketer):
    sender = make_sender(account)
    findings = services.lint_template(
        account, body="Dear {{name}}, \r\nyour Acme order is ready.", template_type="SI", is_english=True, sender=sender
    )
    assert [f.code for f in findings] == ["trailing_space"]
    saved = services.create_template(
        account,
        acting_user=marketer,
        name="Ready",
        body="Dear {{name}},\r\nyour Acme order is ready.",
        sender=sender,
        template_type="SI",
    )
    assert saved.template.body == "Dear {{name}},\nyour Acme order is ready."


def test_large_blocked_import_checks_existing_ids_in_batches(account, compliance_user):
    BlockedTemplate.objects.create(account=account, template_id="1107000000000001999")
    rows = [(n, f"1107000000000{n:06d}") for n in range(1, 2501)]
    summary = services.import_blocked_templates(account, acting_user=compliance_user, rows=rows)
    assert (summary.created, summary.existing) == (2499, 1)
    assert BlockedTemplate.objects.for_account(account).count() == 2500


def test_a_sender_with_templates_cannot_be_deleted(account, marketer):
    sender = make_sender(account)
    make_template(account, sender)
    with pytest.raises(services.Conflict):
        services.delete_sender(sender, acting_user=marketer)
    unused = make_sender(account, "ACMEUN")
    services.delete_sender(unused, acting_user=marketer)
    assert AuditEvent.objects.filter(verb="sender.deleted", object_id=str(unused.uid)).exists()
