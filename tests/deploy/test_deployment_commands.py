"""The commands the deployment files run, run here: the Dockerfile's static-file step with nothing but its own
throwaway values, the image's HEALTHCHECK against `bin/serve web` started with the image's environment, and the
compose workers' health check against `bin/serve worker` (which must answer a ping by the node name it is given).
"""

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.deploy.dockerfile_lint import parse
from tests.deploy.inventory import ROOT
from tests.support.services import require_redis

START_SECONDS = 60  # the HEALTHCHECK's --start-period and the compose workers' start_period
IMAGE_PATHS = {"PATH", "PYTHON", "VAR_DIR"}  # the image's own paths, replaced by this machine's


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def image_environment(dockerfile_text: str, var_dir: Path, **settings) -> dict[str, str]:
    """The final stage's ENV with this checkout's interpreter and a VAR_DIR of the test, plus the production
    settings an operator's env file gives (hosts that do not exist: nothing here connects at start)."""
    image_env = {name: value for name, value in parse(dockerfile_text)[1][-1].env().items() if name not in IMAGE_PATHS}
    return {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(var_dir),
        **image_env,
        "PYTHON": sys.executable,
        "VAR_DIR": str(var_dir),
        "SECRET_KEY": "a-test-secret-key-" + Fernet.generate_key().decode(),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "portal.example.com,.portal.example.com",
        "DATABASE_URL": "postgres://portal@db.invalid:5432/portal",
        "CELERY_BROKER_URL": "redis://redis.invalid:6379/0",
        "CACHE_URL": "redis://redis.invalid:6379/1",
        **settings,
    }


def run_until(command: list[str], env: dict, seconds: float) -> subprocess.CompletedProcess:
    """Run the probe every second until it succeeds or `seconds` pass; the last run is returned."""
    deadline = time.monotonic() + seconds
    while True:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result
        time.sleep(1)


def wait_for_line(log: Path, pattern: str, process: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not re.search(pattern, log.read_text(errors="replace")):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.5)


@contextmanager
def serving(arguments: list[str], env: dict, log: Path):
    """bin/serve ARGUMENTS as the image's ENTRYPOINT runs it; stopped (SIGTERM, then SIGKILL) however it ends."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(ROOT / "bin" / "serve"), *arguments],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def test_the_static_file_step_of_the_dockerfile_needs_only_its_own_values(tmp_path, dockerfile_text):
    """The build runs collectstatic with throwaway values only: they suffice, and nothing but the static files
    (no generated secret_key, no broker folders) is left in VAR_DIR for the image."""
    (collect,) = [run for run in parse(dockerfile_text)[1][0].all("RUN") if "collectstatic" in run.args]
    words = shlex.split(collect.args.split("&&")[0])
    assignments = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
    command = [word for word in words if not re.match(r"^[A-Z_]+=", word)]
    assert command[1:] == ["manage.py", "collectstatic", "--noinput", "-v", "0"]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **assignments, "VAR_DIR": str(tmp_path / "var")}
    subprocess.run([sys.executable, *command[1:]], cwd=ROOT, env=env, check=True, timeout=300)
    assert sorted(path.name for path in (tmp_path / "var").iterdir()) == ["staticfiles"]
    assert (tmp_path / "var" / "staticfiles" / "staticfiles.json").is_file()


def test_the_image_healthcheck_probes_bin_serve_web_and_sigterm_stops_it(tmp_path, dockerfile_text, image):
    port = free_port()
    env = image_environment(dockerfile_text, tmp_path, HOST="127.0.0.1", PORT=str(port), WEB_CONCURRENCY="1")
    probe = [sys.executable, *image.healthcheck[1:]]
    assert image.healthcheck[0] == "python"
    with serving(["web"], env, tmp_path / "web.log") as web:
        healthy = run_until(probe, env, START_SECONDS)
        assert healthy.returncode == 0, healthy.stderr + (tmp_path / "web.log").read_text(errors="replace")
        web.send_signal(signal.SIGTERM)
        assert web.wait(timeout=40) == 0
    assert subprocess.run(probe, cwd=ROOT, env=env, capture_output=True, timeout=30).returncode != 0


@pytest.mark.redis
def test_the_compose_worker_healthcheck_pings_bin_serve_worker_by_its_name(tmp_path, dockerfile_text, compose):
    broker = require_redis()
    env = image_environment(dockerfile_text, tmp_path, CELERY_BROKER_URL=broker, HOSTNAME=socket.gethostname())
    checks = {name: compose["services"][f"worker-{name}"]["healthcheck"]["test"] for name in ("sending", "webhooks")}
    assert all(check[0] == "CMD-SHELL" for check in checks.values())
    log = tmp_path / "worker.log"
    with serving(compose["services"]["worker-sending"]["command"], env, log) as worker:
        wait_for_line(log, r"sending@\S+ ready", worker, START_SECONDS)
        answered = subprocess.run(
            ["/bin/sh", "-c", checks["sending"][1]], cwd=ROOT, env=env, text=True, capture_output=True, timeout=60
        )
        assert answered.returncode == 0, answered.stderr + log.read_text(errors="replace")
        # the check of a worker that is not running fails (quickly here: a 2 s ping instead of 20 s)
        absent = re.sub(r"-t \d+", "-t 2", checks["webhooks"][1])
        assert subprocess.run(["/bin/sh", "-c", absent], cwd=ROOT, env=env, timeout=60).returncode != 0
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0
