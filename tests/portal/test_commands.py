"""Scripted set-up: create_account, create_token, load_demo; and `check --deploy` with production settings."""

import json
import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from portal.models import Account, Membership

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_account_and_token_then_call_the_api():
    output = run("create_account", "Acme Ops", "--admin", "ops@acme.example", "--country", "us")
    assert "Password for ops@acme.example" in output
    account = Account.objects.get(slug="acme-ops")
    assert account.default_country == "US"
    assert Membership.objects.get(account=account).role == "admin"
    raw = run("create_token", "--account", "acme-ops", "--user", "ops@acme.example", "--read-only").strip()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    body = client.get("/api/v2/auth/me").json()
    assert body["data"]["account"]["slug"] == "acme-ops" and body["data"]["token"]["read_only"] is True


def test_create_token_errors_are_clear():
    with pytest.raises(CommandError, match="No account"):
        run("create_token", "--account", "nope", "--user", "x@example.com")


def test_create_account_rejects_bad_time_zone():
    with pytest.raises(CommandError, match="time zone"):
        run("create_account", "Bad", "--admin", "a@b.example", "--time-zone", "Nowhere/Land")


def test_load_demo_runs_once():
    first = run("load_demo")
    assert "admin@demo.example" in first
    assert Account.objects.filter(slug="demo").exists()
    assert "already loaded" in run("load_demo")


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SECURE_", "DEBUG", "DJANGO_ALLOW"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="portal.example.com",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://portal@db.example.com:5432/portal",
        CELERY_BROKER_URL="redis://redis.example.com:6379/0",
        CACHE_URL="redis://redis.example.com:6379/1",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_bad_environment_value_fails_loudly(tmp_path):
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings", DEBUG="maybe", VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "DEBUG must be a boolean" in result.stderr


RECORDING_PYTHON = """#!{python}
# Stands in for the virtualenv's python under `make run`: records each step's argv and environment; the
# migrate step runs the real system checks (as migrate does); the servers wait until all steps are recorded.
import json, os, subprocess, sys, time
from pathlib import Path

calls = Path({calls!r})
(calls / f"{{time.monotonic_ns()}}-{{os.getpid()}}.json").write_text(json.dumps([sys.argv[1:], dict(os.environ)]))
if sys.argv[1:3] == ["manage.py", "migrate"]:
    sys.exit(subprocess.run([{python!r}, "manage.py", "check"]).returncode)
if "load_demo" not in sys.argv:
    deadline = time.monotonic() + 60
    while len(list(calls.iterdir())) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
"""


def make_run(tmp_path: Path, **variables: str) -> tuple[subprocess.CompletedProcess, list[tuple[str, dict]]]:
    """`make run` with the given environment and a recording python; the steps it ran as (step, environment)."""
    calls = tmp_path / "calls"
    calls.mkdir()
    python = tmp_path / "python"
    python.write_text(RECORDING_PYTHON.format(python=sys.executable, calls=str(calls)))
    python.chmod(0o755)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "DEBUG", "DATABASE_URL"))}
    env.update(VAR_DIR=str(tmp_path / "var"), PORT="8765", **variables)
    installed = Path(sys.executable).parents[1] / ".installed"
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", str(installed), "run", f"PY={python}", f"VENV={installed.parent}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    steps = []
    for record in sorted(calls.iterdir()):
        argv, step_env = json.loads(record.read_text())
        steps.append((" ".join(argv[:3] if argv[0] == "-m" else argv[:2]), step_env))
    return result, steps


def test_make_run_gives_every_step_debug_so_a_local_webhook_allow_list_passes_the_checks(tmp_path):
    result, steps = make_run(tmp_path, WEBHOOK_ALLOWED_CIDRS="127.0.0.0/8")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert [step for step, _ in steps[:2]] == ["manage.py migrate", "manage.py load_demo"]
    # the SMPP gateway always starts; the SMPP worker is only asked which connectors it would serve (none
    # here), so it is not started
    started = ["-m celery -A", "-m celery -A", "manage.py runserver", "manage.py smpp_server", "manage.py smpp_worker"]
    assert sorted(step for step, _ in steps[2:]) == started
    assert {step_env["DEBUG"] for _, step_env in steps} == {"1"}
    assert {step_env["WEBHOOK_ALLOWED_CIDRS"] for _, step_env in steps} == {"127.0.0.0/8"}


def test_make_run_with_debug_off_stops_at_migrate_when_the_allow_list_is_set(tmp_path):
    result, steps = make_run(tmp_path, WEBHOOK_ALLOWED_CIDRS="127.0.0.0/8", DEBUG="0")
    assert result.returncode != 0
    assert "portal.E100" in result.stderr
    assert [(step, step_env["DEBUG"]) for step, step_env in steps] == [("manage.py migrate", "0")]
