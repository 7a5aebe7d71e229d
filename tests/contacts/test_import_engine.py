"""The import engine end to end on real files: modes, opt-outs, duplicates, bad rows, cancel, dry run."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.importing.engine import batch_rows_for, build_preview
from contacts.importing.targets import ContactTarget
from contacts.models import (
    Contact,
    ContactTag,
    Group,
    GroupMember,
    Import,
    ImportRowError,
    ImportState,
    Tag,
    Unsubscriber,
)
from contacts.services_imports import cancel_import, create_import, delete_import, start_import
from tests.contacts import import_files


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, path.read_bytes())


def run(account, user, path, **options):
    job = create_import(account, user, upload(path), **options)
    return start_import(job)


def csv_file(tmp_path, text, name="c.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def contacts_xlsx(tmp_path):
    return import_files.xlsx_two_sheets(tmp_path / "contacts.xlsx")


def test_two_sheet_workbook_imports_every_valid_row(account, marketer, contacts_xlsx):
    job = run(account, marketer, contacts_xlsx, tags=["March"])
    assert job.state == ImportState.DONE, job.error_message
    assert (job.rows_read, job.created, job.failed) == (6, 6, 0)
    phones = set(Contact.objects.for_account(account).values_list("phone", flat=True))
    assert phones == {
        "+919876543210",
        "+919876543211",
        "+919876543212",
        "+919876543213",
        "+447400123456",
        "+447400123457",
    }
    asha = Contact.objects.get(phone="+919876543210")
    assert (asha.first_name, asha.last_name, asha.email, asha.country) == ("Asha", "Rao", "asha@example.com", "IN")
    assert asha.attributes == {"loyalty_tier": "Gold"}
    assert asha.uid.version == 7 and len(asha.identity) == 32
    oliver = Contact.objects.get(phone="+447400123456")
    assert (oliver.first_name, oliver.last_name) == ("Oliver", "Smith")
    march = Tag.objects.get(account=account, name="March")
    assert ContactTag.objects.filter(tag=march).count() == 6
    assert job.report["sheets"][0]["header_row"] == 2


def test_bad_rows_are_reported_with_sheet_row_column_and_reason(account, marketer, tmp_path):
    path = import_files.xlsx_rows(
        tmp_path / "bad.xlsx",
        [["Phone", "Email", "Gender"], ["+447400123456", "a@b.co", "F"], ["12", "", ""], ["+447400123457", "nope", ""]],
        title="List",
    )
    job = run(account, marketer, path)
    assert (job.created, job.failed) == (1, 2)
    errors = list(job.row_errors.values_list("sheet", "row", "column", "value", "code"))
    assert errors == [
        ("List", 3, "A (Phone)", "12", "invalid_phone"),
        ("List", 4, "B (Email)", "nope", "invalid_email"),
    ]
    assert "too short" in job.row_errors.first().reason


def test_duplicates_in_the_file_are_reported_once(account, marketer, tmp_path):
    path = csv_file(tmp_path, "phone\n+447400123456\n+44 7400 123456\n447400123456\n+447400123457\n")
    job = run(account, marketer, path)
    assert (job.rows_read, job.created, job.duplicates, job.skipped) == (4, 2, 2, 2)
    [error] = job.row_errors.all()
    assert (error.row, error.code, error.value) == (3, "duplicate", "+447400123456")
    assert "Duplicate of row 2" in error.reason and "2 times" in error.reason


def existing_contact(account, **fields):
    return Contact.objects.create(account=account, phone="+447400123456", first_name="Old", email="old@x.com", **fields)


def test_create_mode_leaves_existing_contacts_alone(account, marketer, tmp_path):
    contact = existing_contact(account)
    path = csv_file(tmp_path, "phone,first name\n+447400123456,New\n+447400123457,Other\n")
    job = run(account, marketer, path, mode="create", tags=["T"])
    assert (job.created, job.updated, job.skipped) == (1, 0, 1)
    contact.refresh_from_db()
    assert contact.first_name == "Old"
    assert not ContactTag.objects.filter(contact=contact).exists()


def test_upsert_updates_and_keeps_chosen_fields(account, marketer, tmp_path):
    contact = existing_contact(account, attributes={"tier": "Gold", "city": "Leeds"})
    path = csv_file(tmp_path, "phone,first name,email,tier\n+447400123456,New,,Silver\n+447400123457,Other,o@x.com,\n")
    job = run(account, marketer, path, mode="upsert", keep_existing=["first_name"])
    assert (job.created, job.updated) == (1, 1)
    contact.refresh_from_db()
    assert contact.first_name == "Old"
    assert contact.email == "old@x.com"
    assert contact.attributes == {"tier": "Silver", "city": "Leeds"}


def test_update_mode_touches_only_existing_contacts(account, marketer, tmp_path):
    contact = existing_contact(account)
    group = Group.objects.create(account=account, name="VIP")
    path = csv_file(tmp_path, "phone,first name\n+447400123456,New\n+447400123457,Other\n")
    job = run(account, marketer, path, mode="update", group=group)
    assert (job.created, job.updated, job.skipped) == (0, 1, 1)
    contact.refresh_from_db()
    assert contact.first_name == "New"
    assert list(GroupMember.objects.values_list("contact_id", flat=True)) == [contact.pk]
    assert Contact.objects.count() == 1


def test_an_import_never_resubscribes_an_opted_out_number(account, marketer, tmp_path):
    Unsubscriber.objects.create(account=account, receiver="+447400123456", type="all")
    path = csv_file(tmp_path, "phone,subscribed,status\n+447400123456,yes,subscribed\n+447400123457,yes,subscribed\n")
    job = run(account, marketer, path)
    assert (job.created, job.opted_out) == (2, 1)
    assert Unsubscriber.objects.filter(account=account, receiver="+447400123456", type="all").exists()
    from contacts.suppression import is_suppressed

    assert is_suppressed(account, "+447400123456")


def test_identity_used_by_another_contact_fails_only_that_row(account, marketer, tmp_path):
    existing_contact(account, identity="crm-1")
    path = csv_file(tmp_path, "phone,customer id\n+447400123457,crm-1\n+447400123458,crm-2\n")
    job = run(account, marketer, path)
    assert (job.created, job.failed) == (1, 1)
    assert job.row_errors.get().code == "identity_taken"


def test_header_only_file_fails_with_no_data_rows(account, marketer, tmp_path):
    job = run(account, marketer, csv_file(tmp_path, "phone,name\n"))
    assert (job.state, job.error_code) == (ImportState.FAILED, "no_data")
    assert job.error_message == "The file has no data rows (only empty rows or a header)."


@pytest.mark.parametrize(
    ("builder", "code"),
    [
        (lambda tmp: import_files.zip_bomb(tmp / "b.xlsx"), "zip_bomb"),
        (lambda tmp: import_files.entity_bomb(tmp / "e.xlsx", tmp), "xml_entities"),
        (lambda tmp: import_files.renamed_binary(tmp / "r.xlsx"), "wrong_type"),
        (lambda tmp: import_files.password_protected_xlsx(tmp / "p.xlsx", tmp), "password_protected"),
    ],
)
def test_hostile_files_fail_the_import_clearly_and_the_next_import_works(account, marketer, tmp_path, builder, code):
    job = run(account, marketer, builder(tmp_path))
    assert (job.state, job.error_code) == (ImportState.FAILED, code)
    assert job.error_message
    assert Contact.objects.count() == 0
    assert run(account, marketer, csv_file(tmp_path, "phone\n+447400123456\n")).state == ImportState.DONE


def test_empty_upload_fails_as_empty_file(account, marketer):
    job = start_import(create_import(account, marketer, SimpleUploadedFile("e.csv", b"")))
    assert (job.state, job.error_code) == (ImportState.FAILED, "empty_file")


def test_cancel_mid_file_keeps_committed_batches_whole(account, marketer, tmp_path, settings, monkeypatch):
    settings.IMPORT_BATCH_ROWS = 10
    path = csv_file(tmp_path, "phone\n" + "".join(f"+4474001{index:05d}\n" for index in range(55)))
    job = create_import(account, marketer, upload(path))
    original = ContactTarget.write

    def write_then_user_cancels(self, records, run_job):
        result = original(self, records, run_job)
        cancel_import(Import.objects.get(pk=job.pk), marketer)
        return result

    monkeypatch.setattr(ContactTarget, "write", write_then_user_cancels)
    job = start_import(job)
    assert job.state == ImportState.CANCELLED
    assert job.created == 10
    assert Contact.objects.count() == 10


def test_dry_run_validates_everything_and_writes_nothing(account, marketer, tmp_path):
    path = csv_file(tmp_path, "phone\n+447400123456\nbad\n+447400123456\n")
    job = run(account, marketer, path, dry_run=True)
    assert job.state == ImportState.DONE
    assert (job.rows_read, job.failed, job.duplicates, job.created) == (3, 1, 1, 0)
    assert Contact.objects.count() == 0
    job = start_import(job, dry_run=False)
    assert (job.created, job.failed) == (1, 1)


def test_preview_shows_mapping_and_cell_problems(account, contacts_xlsx, tmp_path):
    preview = build_preview(contacts_xlsx, "contacts", account)
    assert [sheet["name"] for sheet in preview["sheets"]] == ["India", "UK"]
    first = preview["rows"][0]
    assert (first["sheet"], first["row"], first["ok"]) == ("India", 3, True)
    assert first["cells"][0]["value"] == "919876543210"
    assert first["cells"][0]["cleaned"] == "+919876543210"
    bad = build_preview(csv_file(tmp_path, "phone,email\n12,x\n"), "contacts", account)["rows"][0]
    assert bad["ok"] is False
    assert [cell["problem"] != "" for cell in bad["cells"]] == [True, True]
    tagged = build_preview(csv_file(tmp_path, "phone,tags\n+447400123456,vip; retail\n", "t.csv"), "contacts", account)
    assert [cell["cleaned"] for cell in tagged["rows"][0]["cells"]] == ["+447400123456", "vip, retail"]


def test_deleting_an_import_removes_its_errors_and_file(
    account, marketer, tmp_path, django_capture_on_commit_callbacks
):
    job = run(account, marketer, csv_file(tmp_path, "phone\nbad\n+447400123456\n"))
    stored = Path(job.file.path)
    assert stored.exists() and job.row_errors.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        delete_import(job, marketer)
    assert not Import.objects.filter(pk=job.pk).exists()
    assert not ImportRowError.objects.exists()
    assert not stored.exists()
    assert Contact.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.parametrize("writers", [1, 3])
def test_batches_written_on_writer_threads_all_arrive(transactional_db, account, marketer, tmp_path, settings, writers):
    settings.IMPORT_BATCH_ROWS = 10
    settings.IMPORT_WRITERS = writers
    lines = "".join(f"+4474001{index:05d},id-{index % 90},vip;b2b;t{index % 7}\n" for index in range(95))
    job = run(account, marketer, csv_file(tmp_path, "phone,identity,tags\n" + lines + "bad,x,y\n"))
    assert (job.state, job.created, job.failed) == (ImportState.DONE, 90, 6)
    assert Contact.objects.count() == 90
    assert sorted(Contact.objects.values_list("identity", flat=True)) == sorted(f"id-{n}" for n in range(90))
    assert Tag.objects.for_account(account).count() == 9
    assert ContactTag.objects.count() == 270
    assert job.row_errors.filter(code="duplicate_identity").count() == 5
    assert {contact.uid.version for contact in Contact.objects.all()} == {7}
    assert job.timings["write"] > 0


def test_numbers_repeated_across_chunks_survive_the_bounded_phone_cache(account, marketer, tmp_path, monkeypatch):
    from contacts.importing import engine

    monkeypatch.setattr(engine, "PHONE_CACHE_SIZE", 10)
    lines = "".join(f"+4474001{index % 3000:05d}\n" for index in range(12_000))
    job = run(account, marketer, csv_file(tmp_path, "phone\n" + lines))
    assert (job.state, job.rows_read, job.created, job.duplicates) == (ImportState.DONE, 12_000, 3000, 9000)
    assert job.row_errors.count() == 3000


def test_an_unknown_kind_fails_the_import_with_a_message(account, marketer, tmp_path):
    job = create_import(account, marketer, upload(csv_file(tmp_path, "phone\n+447400123456\n")))
    Import.objects.filter(pk=job.pk).update(kind="carrier_pigeons")
    job = start_import(Import.objects.get(pk=job.pk))
    assert (job.state, job.error_code) == (ImportState.FAILED, "unknown_kind")


def test_dates_genders_and_attributes_are_stored_typed(account, marketer, tmp_path):
    import datetime

    path = import_files.xlsx_rows(
        tmp_path / "typed.xlsx",
        [
            ["Phone", "DOB", "Sex", "Points"],
            ["+447400123456", datetime.date(1990, 5, 17), "F", 12.0],
            ["+447400123457", "17/05/1991", "male", "x"],
        ],
    )
    job = run(account, marketer, path)
    assert (job.created, job.failed) == (2, 0), list(job.row_errors.values_list("reason", flat=True))
    first, second = Contact.objects.order_by("phone")
    assert (first.birth_date, first.gender, first.attributes) == (datetime.date(1990, 5, 17), "female", {"points": 12})
    assert (second.birth_date, second.gender) == (datetime.date(1991, 5, 17), "male")
    assert first.uid != second.uid and len(first.identity) == 32


def test_phone_worker_processes_start_inside_a_daemonic_celery_worker(monkeypatch):
    import multiprocessing

    from contacts.importing.engine import PhoneNormalizer

    monkeypatch.setitem(multiprocessing.current_process()._config, "daemon", True)
    normalizer = PhoneNormalizer("GB", processes=2)
    values = [f"07400 {index:06d}" for index in range(2500)] + ["12"]
    try:
        first = normalizer.submit(values[:1200])
        second = normalizer.submit(values[1200:])
        assert normalizer.pool is not None
        results = {**normalizer.collect(first), **normalizer.collect(second)}
    finally:
        normalizer.close()
    assert results["07400 000042"].e164 == "+447400000042"
    assert results["12"].valid is False and results["12"].reason
    assert len(results) == 2501


def test_the_cyclic_collector_is_off_during_a_run_and_back_on_after(account, marketer, tmp_path, monkeypatch):
    import gc

    from contacts.importing import engine

    states = []
    original = engine.Runner.run

    def run_and_record(runner):
        states.append(gc.isenabled())
        return original(runner)

    monkeypatch.setattr(engine.Runner, "run", run_and_record)
    job = run(account, marketer, csv_file(tmp_path, "phone\n+919876543210\n"))
    assert job.state == ImportState.DONE
    assert states == [False]
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("estimate", "largest", "expected"),
    [(100_000, 20_000, 5_000), (1_000_000, 20_000, 20_000), (1_000, 20_000, 2_000), (100_000, 10, 10)],
)
def test_batches_are_about_a_twentieth_of_the_file_within_bounds(estimate, largest, expected):
    assert batch_rows_for(estimate, largest) == expected


def test_row_errors_are_listed_in_file_order_whatever_stage_found_them(account, marketer, tmp_path, api):
    existing_contact(account, identity="crm-1")
    lines = [
        "+447400123450,crm-0",
        "+447400123457,crm-1",  # row 3: refused while writing (identity of another contact)
        "+447400123450,crm-9",  # row 4: a duplicate, reported after the whole file was read
        "12,crm-5",  # row 5: refused while validating
    ]
    job = run(account, marketer, csv_file(tmp_path, "phone,customer id\n" + "\n".join(lines) + "\n"))
    assert [(error.row, error.code) for error in job.row_errors.all()] == [
        (3, "identity_taken"),
        (4, "duplicate"),
        (5, "invalid_phone"),
    ]
    assert sorted(job.row_errors.values_list("id", flat=True)) != list(job.row_errors.values_list("id", flat=True))
    errors = api("marketer").get(f"/api/v2/contacts/imports/{job.uid}/errors").json()
    assert [item["row"] for item in errors["data"]] == [3, 4, 5]
