"""Imports through a real Celery worker: hostile files fail clearly and the same worker imports the next file."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.models import Contact, Import, ImportState
from contacts.services_imports import create_import, start_import
from portal.celery import app
from tests.contacts import import_files

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def wait_until_finished(job: Import, timeout: float = 90) -> Import:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.3)
    raise AssertionError(f"import still {job.state} after {timeout} s")


def queue(account, user, path) -> Import:
    return start_import(create_import(account, user, SimpleUploadedFile(path.name, path.read_bytes())))


def test_hostile_files_fail_in_the_worker_which_then_imports_the_next_file(
    celery_worker, account, marketer, tmp_path, settings, monkeypatch
):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    settings.IMPORT_INLINE_MAX_BYTES = 0
    hostile = {
        "zip_bomb": import_files.zip_bomb(tmp_path / "bomb.xlsx"),
        "xml_entities": import_files.entity_bomb(tmp_path / "laughs.xlsx", tmp_path),
        "wrong_type": import_files.renamed_binary(tmp_path / "photo.xlsx"),
        "password_protected": import_files.password_protected_xlsx(tmp_path / "locked.xlsx", tmp_path),
    }
    for code, path in hostile.items():
        job = wait_until_finished(queue(account, marketer, path))
        assert (job.state, job.error_code) == (ImportState.FAILED, code), job.error_message
    good = wait_until_finished(queue(account, marketer, import_files.xlsx_two_sheets(tmp_path / "good.xlsx")))
    assert (good.state, good.created) == (ImportState.DONE, 6)
    assert Contact.objects.filter(account=account).count() == 6
    assert celery_worker.process.poll() is None
