"""The production process set: start-up checks, bin/serve's refusals, queues by task, request ids and JSON logs,
and forked children that drop the connections they inherit."""

import json
import logging
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from portal import checks, forking
from portal.celery import app
from portal.logging import JsonFormatter
from portal.queues import ALL_QUEUES, QUEUE_OF_TASK

ROOT = Path(__file__).resolve().parents[2]
GOOD_ENV = {
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "portal.example.com",
}


def problem_ids(monkeypatch, settings, env: dict, **overrides) -> set[str]:
    for name in ("SECRET_KEY", "ALLOWED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings.DEBUG = False
    settings.SECRET_KEY = env.get("SECRET_KEY") or settings.SECRET_KEY
    settings.CELERY_BROKER_URL = "redis://redis.example.com:6379/0"
    settings.CACHE_URL = "redis://redis.example.com:6379/1"
    for name, value in overrides.items():
        setattr(settings, name, value)
    return {problem.id for problem in checks.production_settings()} - {"portal.E006"}  # the test database: SQLite


def test_production_settings_pass_when_given_explicitly(monkeypatch, settings):
    assert problem_ids(monkeypatch, settings, GOOD_ENV) == set()


@pytest.mark.parametrize(
    ("env", "overrides", "expected"),
    [
        ({**GOOD_ENV, "SECRET_KEY": ""}, {}, "portal.E001"),
        ({**GOOD_ENV, "SECRET_KEY": "short"}, {}, "portal.E002"),
        ({**GOOD_ENV, "SECRET_KEY": "a" * 80}, {}, "portal.E002"),
        ({**GOOD_ENV, "SECRET_KEY": "django-insecure-" + secrets.token_urlsafe(60)}, {}, "portal.E002"),
        (GOOD_ENV, {"DEBUG": True}, "portal.E003"),
        ({"SECRET_KEY": GOOD_ENV["SECRET_KEY"]}, {}, "portal.E004"),
        (GOOD_ENV, {"CELERY_BROKER_URL": "filesystem://"}, "portal.E007"),
        (GOOD_ENV, {"CACHE_URL": ""}, "portal.W001"),
    ],
)
def test_each_unsafe_setting_is_named(monkeypatch, settings, env, overrides, expected):
    assert expected in problem_ids(monkeypatch, settings, env, **overrides)


def serve(*args, env_overrides: dict, tmp_path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SECURE_", "DJANGO_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        VAR_DIR=str(tmp_path),
        SECRET_KEY=GOOD_ENV["SECRET_KEY"],
        ALLOWED_HOSTS="portal.example.com",
        DATABASE_URL="postgres://portal@db.invalid:5432/portal",
        CELERY_BROKER_URL="redis://redis.invalid:6379/0",
        CACHE_URL="redis://redis.invalid:6379/1",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
    )
    env.update(env_overrides)
    return subprocess.run(
        ["bin/serve", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_serve_refuses_to_start_with_debug_on(tmp_path):
    result = serve("web", env_overrides={"DEBUG": "1"}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "portal.E003" in result.stderr + result.stdout
    assert "gunicorn" not in result.stderr.lower().replace("deploy/gunicorn", "")


def test_serve_refuses_without_allowed_hosts(tmp_path):
    result = serve("worker", "sending", env_overrides={"ALLOWED_HOSTS": ""}, tmp_path=tmp_path)
    assert result.returncode != 0 and "portal.E004" in result.stderr + result.stdout


def test_serve_refuses_sqlite_and_the_file_broker(tmp_path):
    result = serve(
        "beat", env_overrides={"DATABASE_URL": "sqlite:///portal.db", "CELERY_BROKER_URL": ""}, tmp_path=tmp_path
    )
    assert result.returncode != 0
    assert "portal.E006" in result.stderr + result.stdout and "portal.E007" in result.stderr + result.stdout


def test_serve_check_passes_with_production_settings(tmp_path):
    result = serve("check", env_overrides={}, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_serve_worker_needs_its_queues_and_unknown_commands_fail(tmp_path):
    assert serve("worker", env_overrides={}, tmp_path=tmp_path).returncode == 2
    unknown = serve("frobnicate", env_overrides={}, tmp_path=tmp_path)
    assert unknown.returncode == 2 and "unknown command" in unknown.stderr


def test_every_routed_task_exists_and_lands_on_its_queue():
    app.loader.import_default_modules()
    for name, queue in QUEUE_OF_TASK.items():
        assert name in app.tasks, name
        assert app.amqp.router.route({}, name)["queue"].name == queue
    assert app.amqp.router.route({}, "campaigns.sweep_outbox")["queue"].name == "default"
    assert set(QUEUE_OF_TASK.values()) <= set(ALL_QUEUES)


def test_request_id_is_answered_and_a_good_offered_one_is_kept(client):
    fresh = client.get("/healthz")
    assert len(fresh["X-Request-ID"]) == 32
    kept = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21d4")
    assert kept["X-Request-ID"] == "lb-7f3a9c21d4"
    replaced = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert replaced["X-Request-ID"] != "bad id\nwith newline" and len(replaced["X-Request-ID"]) == 32


class JsonLines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


def test_access_lines_are_json_with_request_id_and_account(api, account):
    handler = JsonLines()
    access = logging.getLogger("portal.access")
    previous_level = access.level
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        response = api().get("/api/v2/contacts?access_token=should-not-appear", HTTP_X_REQUEST_ID="trace-12345678")
    finally:
        access.removeHandler(handler)
        access.setLevel(previous_level)
    (line,) = handler.lines
    assert line["request_id"] == "trace-12345678" == response["X-Request-ID"]
    assert line["account"] == account.slug
    assert line["http_status"] == response.status_code and line["http_method"] == "GET"
    assert line["level"] == "INFO" and line["logger"] == "portal.access"


def test_json_lines_carry_exceptions_and_extra_fields():
    record = logging.LogRecord("portal.test", logging.ERROR, __file__, 1, "failed %s", ("twice",), None)
    record.connector = "smpp-1"
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "failed twice" and line["connector"] == "smpp-1"
    assert "ValueError: boom" in line["exception"] and line["request_id"] == ""


@pytest.mark.django_db(transaction=True)
def test_a_forked_child_forgets_the_connections_it_inherited():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    inherited = connection.connection
    assert inherited is not None
    forking.forget_inherited_connections()
    assert connection.connection is None
    assert inherited in forking._inherited
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert connection.connection is not inherited


def test_static_files_are_collected_under_hashed_names(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings", "VAR_DIR": str(tmp_path), "STATIC_MANIFEST": "1"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    manifest = json.loads((tmp_path / "staticfiles" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/app.css"]
    assert hashed != "css/app.css" and (tmp_path / "staticfiles" / (hashed + ".gz")).exists()
    url = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django.templatetags.static import static; print(static('css/app.css'))",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert url[-1] == f"/static/{hashed}"
