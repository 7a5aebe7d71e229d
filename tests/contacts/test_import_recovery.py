"""Imports whose worker died: the claim (one run per import), the stall sweep (requeue, then fail), the attempt
fence, the heartbeat, and a real worker SIGKILLed mid-import whose import a second worker finishes."""

import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F
from django.utils import timezone

from contacts.importing.recovery import claim_import, heartbeat, requeue_stalled_imports, rerun_changes
from contacts.importing.targets import ContactTarget
from contacts.models import Contact, Import, ImportRowError, ImportState
from contacts.services_imports import create_import, start_import
from contacts.tasks import run_import_task
from portal.celery import app
from portal.celery_schedule import BEAT_SCHEDULE
from portal.queues import IMPORTS
from tests.support.worker import WorkerProcess

LONG_AGO = timedelta(hours=1)


def csv_upload(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode())


def numbers_csv(rows: int) -> str:
    return "phone,identity\n" + "".join(f"+4474{index:08d},id-{index}\n" for index in range(rows))


def queued(account, user, rows: int = 3) -> Import:
    return create_import(account, user, csv_upload(numbers_csv(rows)))


def stalled(job: Import, *, attempts: int = 1, errors: int = 2, **fields) -> Import:
    """The row a killed run leaves: a running state, counters part-way, its row errors, untouched for an hour."""
    Import.objects.filter(pk=job.pk).update(
        state=ImportState.WRITING, attempts=attempts, rows_read=2, created=1, failed=1, **fields
    )
    ImportRowError.objects.bulk_create(
        ImportRowError(job=job, row=number, code="invalid_phone", reason="Not a number.") for number in range(errors)
    )
    Import.objects.filter(pk=job.pk).update(updated_at=timezone.now() - LONG_AGO)
    return Import.objects.get(pk=job.pk)


def test_only_the_first_claim_of_a_queued_import_wins(account, marketer):
    job = queued(account, marketer)
    assert claim_import(job.pk) is True
    assert claim_import(job.pk) is False
    job.refresh_from_db()
    assert job.state == ImportState.READING
    assert claim_import(job.pk + 1000) is False


def test_a_second_delivery_of_the_task_skips_the_import_another_one_runs(account, marketer):
    job = queued(account, marketer)
    assert claim_import(job.pk)
    assert run_import_task.apply(args=(job.pk,)).get() == "skipped"
    job.refresh_from_db()
    assert (job.state, job.rows_read) == (ImportState.READING, 0)
    assert not Contact.objects.exists()


def test_the_task_claims_and_runs_a_queued_import(account, marketer):
    job = queued(account, marketer)
    assert run_import_task.apply(args=(job.pk,)).get() == ImportState.DONE
    assert run_import_task.apply(args=(job.pk,)).get() == "skipped"
    assert Contact.objects.count() == 3


def test_a_stalled_import_is_queued_again_without_its_errors_and_then_finishes(
    account, marketer, django_capture_on_commit_callbacks
):
    job = stalled(queued(account, marketer))
    with django_capture_on_commit_callbacks() as callbacks:
        assert requeue_stalled_imports() == {"requeued": 1, "failed": 0, "cancelled": 0}
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_read, job.created, job.failed) == (ImportState.QUEUED, 2, 0, 0, 0)
    assert not job.row_errors.exists()
    assert len(callbacks) == 1
    callbacks[0]()  # the task, sent after the commit (eager in tests)
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_read, job.created) == (ImportState.DONE, 2, 3, 3)
    assert requeue_stalled_imports() == {"requeued": 0, "failed": 0, "cancelled": 0}


def test_an_import_that_reports_progress_is_left_alone(account, marketer, settings, django_capture_on_commit_callbacks):
    settings.IMPORT_STALL_SECONDS = 300
    job = stalled(queued(account, marketer))
    Import.objects.filter(pk=job.pk).update(updated_at=timezone.now() - timedelta(seconds=290))
    with django_capture_on_commit_callbacks() as callbacks:
        assert requeue_stalled_imports() == {"requeued": 0, "failed": 0, "cancelled": 0}
    job.refresh_from_db()
    assert (job.state, job.attempts, job.rows_read, job.row_errors.count()) == (ImportState.WRITING, 1, 2, 2)
    assert callbacks == []


def test_an_import_stalled_on_its_last_attempt_fails_stalled(
    account, marketer, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_MAX_ATTEMPTS = 3
    job = stalled(queued(account, marketer), attempts=3)
    with django_capture_on_commit_callbacks() as callbacks:
        assert requeue_stalled_imports() == {"requeued": 0, "failed": 1, "cancelled": 0}
    job.refresh_from_db()
    assert (job.state, job.error_code, job.attempts) == (ImportState.FAILED, "stalled", 3)
    assert "3 times" in job.error_message and job.finished_at is not None
    assert job.row_errors.count() == 2  # the last run's report stays with what it wrote
    assert callbacks == []
    restarted = start_import(job)
    assert (restarted.state, restarted.attempts, restarted.created) == (ImportState.DONE, 1, 3)


def test_a_stalled_import_whose_cancel_was_asked_is_cancelled(account, marketer, django_capture_on_commit_callbacks):
    job = stalled(queued(account, marketer), cancel_requested=True)
    with django_capture_on_commit_callbacks() as callbacks:
        assert requeue_stalled_imports() == {"requeued": 0, "failed": 0, "cancelled": 1}
    assert Import.objects.get(pk=job.pk).state == ImportState.CANCELLED
    assert callbacks == []


def test_a_slow_run_whose_import_was_handed_on_stops_and_writes_nothing_more(account, marketer, settings, monkeypatch):
    """The sweep took the import from a run that was slow, not dead: that run stops at its next save."""
    settings.IMPORT_BATCH_ROWS = 10
    write = ContactTarget.write

    def write_then_lose_the_import(target, records, job):
        result = write(target, records, job)
        Import.objects.filter(pk=job.record.pk).update(**rerun_changes(), attempts=F("attempts") + 1)
        return result

    monkeypatch.setattr(ContactTarget, "write", write_then_lose_the_import)
    job = start_import(queued(account, marketer, rows=95))
    assert (job.state, job.attempts, job.rows_read, job.created) == (ImportState.QUEUED, 2, 0, 0)
    assert Contact.objects.count() == 10


def test_the_sweep_replaces_the_old_one_on_the_beat_schedule():
    entry = BEAT_SCHEDULE["imports-stale"]
    assert (entry["task"], entry["schedule"]) == ("contacts.requeue_stalled_imports", 60.0)
    assert entry["task"] in app.tasks


@pytest.mark.postgres
def test_the_heartbeat_touches_the_running_attempt_only(transactional_db, account, marketer, settings):
    settings.IMPORT_STALL_SECONDS = 5  # a beat a second
    job = stalled(queued(account, marketer), attempts=2)
    with heartbeat(job.pk, 1):
        time.sleep(1.6)
    assert Import.objects.get(pk=job.pk).updated_at == job.updated_at
    with heartbeat(job.pk, 2):
        time.sleep(1.6)
    assert Import.objects.get(pk=job.pk).updated_at > timezone.now() - timedelta(seconds=2)


# -- a real worker, SIGKILLed mid-import -------------------------------------------------------------------------
ROWS = 120_000
BAD_EVERY = 1000  # one row in a thousand has no valid number: the file's row errors must be reported once


def file_with_bad_rows() -> str:
    lines = (
        f"{'not a number' if index % BAD_EVERY == BAD_EVERY - 1 else f'+4474{index:08d}'},id-{index}\n"
        for index in range(ROWS)
    )
    return "phone,identity\n" + "".join(lines)


def wait_for(job: Import, condition, timeout: float, what: str) -> Import:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if condition(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"{what}: the import is {job.state} with {job.created + job.updated} rows written")


def ran_to_done(log: str) -> bool:
    return any("contacts.run_import[" in line and line.endswith(": 'done'") for line in log.splitlines())


def wait_for_success(worker: WorkerProcess, timeout: float = 30) -> None:
    """Until the worker logs the run's success: it acknowledged the message, so stopping it redelivers nothing."""
    deadline = time.monotonic() + timeout
    while not ran_to_done(worker.log()):
        assert time.monotonic() < deadline, worker.log()[-3000:]
        time.sleep(0.1)


@pytest.mark.postgres
@pytest.mark.redis
def test_an_import_whose_worker_was_killed_is_finished_by_another_worker(
    transactional_db, redis_broker, account, marketer, settings, monkeypatch
):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    settings.IMPORT_INLINE_MAX_BYTES = 0
    with app.connection_for_write() as broker:  # no message of an earlier run may claim this test's import
        broker.default_channel.queue_purge(IMPORTS)
    worker = WorkerProcess(redis_broker, concurrency=1, queues=IMPORTS).start()
    try:
        job = start_import(create_import(account, marketer, csv_upload(file_with_bad_rows())))
        job = wait_for(
            job, lambda job: job.state == ImportState.WRITING and job.created > 0, 60, "no batch written in time"
        )
        worker.kill()
        job.refresh_from_db()
        assert job.state == ImportState.WRITING and 0 < Contact.objects.count() < ROWS, worker.log()[-3000:]
        assert job.row_errors.exists()
        settings.IMPORT_STALL_SECONDS = 1
        time.sleep(1.5)
        assert requeue_stalled_imports() == {"requeued": 1, "failed": 0, "cancelled": 0}
        job.refresh_from_db()
        assert (job.state, job.attempts, job.row_errors.count()) == (ImportState.QUEUED, 2, 0)
        worker.start()
        job = wait_for(job, lambda job: job.is_finished, 180, "not finished by the second worker")
        wait_for_success(worker)
    finally:
        worker.stop()
    bad = ROWS // BAD_EVERY
    assert (job.state, job.attempts, job.rows_read, job.failed) == (ImportState.DONE, 2, ROWS, bad), job.error_message
    assert job.row_errors.count() == bad
    valid = ROWS - bad
    assert 0 < job.created < valid and job.created + job.updated == valid  # the killed run's rows count as updated
    contacts = Contact.objects.filter(account=account)
    assert contacts.count() == valid
    assert contacts.values("identity").distinct().count() == valid
    assert contacts.values("phone").distinct().count() == valid
