"""Scripted set-up: create_account, create_token, load_demo; and `check --deploy` with production settings."""

import os
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
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
        VAR_DIR=str(tmp_path),
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
