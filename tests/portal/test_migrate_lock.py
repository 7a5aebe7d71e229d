"""`manage.py migrate` waits while another machine migrates the same PostgreSQL database (an advisory lock)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from portal.management.commands.migrate import MIGRATION_LOCK_KEY
from tests.support.worker import database_url_for_tests

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_a_second_migrate_waits_for_the_first(postgres):
    url = database_url_for_tests()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "DATABASE_URL": url, "DB_POOL": "0"}
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK_KEY])
        waiting = subprocess.Popen(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            time.sleep(6)
            assert waiting.poll() is None, waiting.stdout.read()
        finally:
            holder.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK_KEY])
        output, _ = waiting.communicate(timeout=120)
    assert waiting.returncode == 0, output
    assert "Another process is migrating this database: waiting" in output
    assert "No migrations to apply" in output
