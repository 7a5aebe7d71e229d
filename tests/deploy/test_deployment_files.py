"""The Dockerfile, compose.yaml, the systemd units and deploy/env.example, linted (no image can be built here):
each file is clean, agrees with the others and with the project (bin/serve, the queues, the settings), and each
lint catches the mistake it is there for (a broken copy of the real file is reported).
"""

import copy
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from campaigns.smpp_gateway.conf import DEFAULTS as SMPP_GATEWAY_DEFAULTS
from tests.deploy.compose_lint import interpolate, lint_compose
from tests.deploy.dockerfile_lint import apt_packages, lint_dockerfile, parse
from tests.deploy.env_lint import lint_env_example
from tests.deploy.inventory import (
    COMPOSE,
    COMPOSE_SUBSTITUTIONS,
    ENV_EXAMPLE,
    ROOT,
    SERVE,
    parse_duration,
    serve_queues,
)
from tests.deploy.systemd_lint import WORKER_TEMPLATE, UnitLint, environment_of, lint_units, merged

# ------------------------------------------------------------------------------------------------- Dockerfile


def test_the_dockerfile_is_clean(dockerfile_text):
    assert lint_dockerfile(dockerfile_text) == []


def test_the_image_is_the_production_process_set(dockerfile_text, facts):
    _, stages = parse(dockerfile_text)
    builder, final = stages[0], stages[-1]
    env = final.env()
    assert env["SERVE_COLLECTSTATIC"] == "0" and env["VAR_DIR"] == "/var/lib/cpaas"
    (collect,) = [run for run in builder.all("RUN") if "collectstatic" in run.args]
    assert "STATIC_MANIFEST=1" in collect.args and f"VAR_DIR={env['VAR_DIR']}" in collect.args
    copied = [copy.args.split()[-1] for copy in final.all("COPY") if "--from=builder" in copy.args]
    assert f"{env['VAR_DIR']}/staticfiles" in copied and env["PYTHON"].startswith(tuple(copied))
    volumes = " ".join(volume.args for volume in final.all("VOLUME"))
    assert f"{env['VAR_DIR']}/media" in volumes and f"{env['VAR_DIR']}/staticfiles" not in volumes
    assert [expose.args.split() for expose in final.all("EXPOSE")] == [
        [env["PORT"], str(SMPP_GATEWAY_DEFAULTS["SMPP_PORT"])]
    ]
    assert [signal.args for signal in final.all("STOPSIGNAL")] == ["SIGTERM"]
    assert final.all("ENTRYPOINT")[-1].exec_form()[-1].endswith("bin/serve")
    assert final.all("CMD")[-1].exec_form()[0] in facts.subcommands
    assert "/healthz" in final.all("HEALTHCHECK")[-1].args


def test_the_image_user_is_fixed_and_owns_var_dir_only(dockerfile_text):
    final = parse(dockerfile_text)[1][-1]
    uid = {name: value for arg in final.all("ARG") for name, value in arg.pairs().items()}
    assert all(int(uid[name]) >= 10000 for name in ("APP_UID", "APP_GID"))
    (create,) = [run for run in final.all("RUN") if "useradd" in run.args]
    user = final.all("USER")[-1].args.split(":")[0]
    assert re.search(rf"useradd .*--uid \"\$\{{APP_UID\}}\" .*\b{user}\b", create.args)
    assert re.search(rf"install -d -o {user} -g {user} .*{final.env()['VAR_DIR']}\b", create.args)
    assert not any(apt_packages(run) for run in final.all("RUN")), "the final stage installs no packages at all"


def mutate(text: str, old: str, new: str) -> str:
    assert old in text, f"the real file no longer contains {old!r}: update this test"
    return text.replace(old, new)


FINAL_GCC = "RUN apt-get update && apt-get install -y --no-install-recommends gcc && rm -rf /var/lib/apt/lists/*\n"


def single_stage(text: str) -> str:
    start = text.index("FROM ${PYTHON_IMAGE} AS runtime")
    return text[: text.index("FROM ${PYTHON_IMAGE} AS builder")] + text[start:].replace("--from=builder ", "")


DOCKERFILE_MISTAKES = [
    ("user", lambda t: mutate(t, "USER cpaas:cpaas\n", ""), "no-user"),
    ("user", lambda t: mutate(t, "USER cpaas:cpaas\n", "USER root\n"), "root-user"),
    ("user", lambda t: mutate(t, "USER cpaas:cpaas\n", "") + "USER cpaas\n", "user-after-cmd"),
    ("from-tag", lambda t: mutate(t, "python:3.11-slim-bookworm", "python:latest"), "latest"),
    ("from-tag", lambda t: mutate(t, "python:3.11-slim-bookworm", "python"), "no-tag"),
    ("stages", single_stage, "one-stage"),
    ("same-base", lambda t: mutate(t, "FROM ${PYTHON_IMAGE} AS runtime", "FROM python:3.12-slim AS runtime"), "bases"),
    ("apt-recommends", lambda t: mutate(t, "-y --no-install-recommends", "-y"), "recommends"),
    ("apt-lists", lambda t: mutate(t, "\\\n    && rm -rf /var/lib/apt/lists/*", ""), "apt-lists-kept"),
    ("pip-cache", lambda t: mutate(t, "pip install --no-cache-dir", "pip install"), "pip-cache"),
    ("add-url", lambda t: t + "ADD https://example.com/tool.tar.gz /opt/\n", "add-url"),
    ("env-secret", lambda t: mutate(t, "    PORT=8000\n", "    PORT=8000 \\\n    SECRET_KEY=s3cr3t\n"), "secret"),
    ("exec-form", lambda t: mutate(t, 'CMD ["web"]', "CMD bin/serve web"), "shell-form-cmd"),
    ("healthcheck", lambda t: re.sub(r"HEALTHCHECK .*?\n    CMD .*?\n", "", t, flags=re.DOTALL), "no-check"),
    (
        "build-tools",
        lambda t: mutate(t, "COPY --from=builder /opt/venv", FINAL_GCC + "COPY --from=builder /opt/venv"),
        "gcc",
    ),
]


@pytest.mark.parametrize(("rule", "mistake"), [pytest.param(r, m, id=i) for r, m, i in DOCKERFILE_MISTAKES])
def test_the_dockerfile_lint_catches(rule, mistake, dockerfile_text):
    broken = mistake(dockerfile_text)
    assert broken != dockerfile_text
    problems = lint_dockerfile(broken)
    assert any(problem.startswith(f"{rule}:") for problem in problems), problems


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or a folder above it decides."""
    ignored = False
    parents = [path] + ["/".join(path.split("/")[:i]) for i in range(1, path.count("/") + 1)]
    for pattern in patterns:
        negate, glob = pattern.startswith("!"), pattern.lstrip("!").strip("/")
        regex = re.escape(glob).replace(r"\*\*/", "(.*/)?").replace(r"\*\*", ".*").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex.replace(r"\?", "[^/]"), candidate) for candidate in parents):
            ignored = not negate
    return ignored


def test_the_build_context_leaves_out_state_and_secrets_but_not_the_code():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [line for line in patterns if line and not line.startswith("#")]
    left_out = [
        ".git/HEAD",
        ".venv/bin/python",
        "var/portal.sqlite3",
        "var/media/imports/1/x/upload",
        ".env",
        ".env.production",
        "tests/support/smpp_peer/node_modules/smpp/index.js",
        "portal/__pycache__/x.pyc",
        "bench/out/scale.json",
        "db.sqlite3",
    ]
    assert [path for path in left_out if not dockerignored(path, patterns)] == []
    needed = ["manage.py", "pyproject.toml", "bin/serve", "deploy/gunicorn.conf.py"]
    for folder in ("portal", "campaigns", "contacts", "static", "templates"):
        needed += [
            str(p.relative_to(ROOT)) for p in (ROOT / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts
        ]
    assert len(needed) > 100
    assert [path for path in needed if dockerignored(path, patterns)] == []


# ---------------------------------------------------------------------------------------------- compose.yaml


def test_compose_is_clean(compose, image, facts, env_example):
    assert lint_compose(compose, image, facts, env_example) == []


def test_compose_refuses_to_run_without_the_database_password():
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        interpolate(yaml.safe_load(COMPOSE.read_text()), {})


def without(mapping: dict, key: str) -> dict:
    assert key in mapping, f"{key} is gone from the real file: update this test"
    mapping.pop(key)
    return mapping


COMPOSE_MISTAKES = [
    ("beat", lambda c: c["services"].update({"beat-2": copy.deepcopy(c["services"]["beat"])}), "beat"),
    ("beat", lambda c: c["services"]["beat"].pop("deploy"), "beat-replicas"),
    ("worker", lambda c: without(c["services"], "worker-imports"), "worker-missing"),
    (
        "worker",
        lambda c: c["services"]["worker-sending"].update(command=["worker", "sending,webhooks"]),
        "worker-two-queues",
    ),
    ("worker", lambda c: c["services"]["worker-sending"].update(stop_grace_period="10s"), "worker-grace"),
    ("command", lambda c: c["services"]["web"].update(command=["runserver"]), "command"),
    ("command", lambda c: c["services"]["worker-default"].update(command=["worker", "celery"]), "command-queue"),
    ("image", lambda c: c["services"]["postgres"].update(image="postgres:latest"), "image"),
    ("image", lambda c: c["services"]["redis"].update(image="redis"), "image-untagged"),
    ("depends_on", lambda c: without(c["services"]["web"]["depends_on"], "migrate"), "depends_on"),
    (
        "depends_on",
        lambda c: c["services"]["worker-webhooks"].update(depends_on=["migrate", "postgres"]),
        "depends_on-started",
    ),
    ("migrate", lambda c: c["services"]["migrate"].update(restart="on-failure"), "migrate"),
    (
        "environment",
        lambda c: c["services"]["web"]["environment"].update(DATABSE_URL="postgres://x@postgres/x"),
        "environment",
    ),
    ("environment", lambda c: c["services"]["beat"]["environment"].update(DEBUG="1"), "environment-debug"),
    (
        "environment",
        lambda c: c["services"]["web"]["environment"].update(CELERY_TASK_ALWAYS_EAGER="1"),
        "environment-eager",
    ),
    (
        "environment",
        lambda c: c["services"]["web"]["environment"].update(DATABASE_URL="postgres://x@localhost/x"),
        "environment-host",
    ),
    ("environment", lambda c: without(c["services"]["worker-default"], "env_file"), "environment-file"),
    ("healthcheck", lambda c: without(c["services"]["postgres"], "healthcheck"), "healthcheck"),
    (
        "healthcheck",
        lambda c: c["services"]["worker-webhooks"]["healthcheck"].update(
            test=["CMD-SHELL", "celery -A portal inspect ping -d sending@$HOSTNAME"]
        ),
        "healthcheck-ping",
    ),
    ("healthcheck", lambda c: without(c["services"]["beat"], "healthcheck"), "healthcheck-inherited"),
    ("smpp", lambda c: without(c["services"]["smpp"], "profiles"), "smpp"),
    ("volumes", lambda c: c["services"]["worker-imports"].update(volumes=[]), "volumes"),
    ("web", lambda c: c["services"]["web"].update(stop_grace_period="10s"), "web"),
]


@pytest.mark.parametrize(("rule", "mistake"), [pytest.param(r, m, id=i) for r, m, i in COMPOSE_MISTAKES])
def test_the_compose_lint_catches(rule, mistake, compose, image, facts, env_example):
    broken = copy.deepcopy(compose)
    mistake(broken)
    assert broken != compose
    problems = lint_compose(broken, image, facts, env_example)
    assert any(problem.startswith(f"{rule}:") for problem in problems), problems


def test_the_compose_lint_needs_the_required_secrets_somewhere(compose, image, facts, env_example):
    unset = {**env_example, "SECRET_KEY": ("", False)}
    problems = lint_compose(compose, image, facts, unset)
    assert any("lacks SECRET_KEY" in problem for problem in problems), problems


def test_docker_compose_accepts_the_file(tmp_path):
    """Where the compose plugin exists: compose's own validation, with a .env made from the example."""
    docker = shutil.which("docker")
    if not docker or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("docker compose is not installed here: the Python lint above stands in for it")
    shutil.copy(COMPOSE, tmp_path / "compose.yaml")
    env = ENV_EXAMPLE.read_text()
    for name, value in COMPOSE_SUBSTITUTIONS.items():
        env = re.sub(rf"^{name}=.*$", f"{name}={value}", env, flags=re.MULTILINE)
    (tmp_path / ".env").write_text(env)
    result = subprocess.run(
        [docker, "compose", "-f", "compose.yaml", "config", "-q"], cwd=tmp_path, text=True, capture_output=True
    )
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------------------------ env.example


def test_env_example_documents_every_variable_and_commits_no_secret(env_example_text, facts, compose_variables):
    assert lint_env_example(env_example_text, facts, compose_variables) == []


ENV_MISTAKES = [
    ("secret", lambda t: mutate(t, "\nSECRET_KEY=\n", "\nSECRET_KEY=" + "k" * 60 + "\n"), "secret-committed"),
    ("required", lambda t: mutate(t, "\nALLOWED_HOSTS=", "\n# ALLOWED_HOSTS="), "required-commented"),
    ("unknown", lambda t: t + "# DATABSE_URL=postgres://typo\n", "typo"),
    ("undocumented", lambda t: mutate(t, "# WEB_CONCURRENCY=4\n", ""), "setting-missing"),
    ("undocumented", lambda t: mutate(t, "\nPOSTGRES_PASSWORD=\n", "\n"), "compose-variable-missing"),
    ("development-only", lambda t: t + "CELERY_TASK_ALWAYS_EAGER=1\n", "eager"),
    ("duplicate", lambda t: t + "# LOG_LEVEL=DEBUG\n", "twice"),
]


@pytest.mark.parametrize(("rule", "mistake"), [pytest.param(r, m, id=i) for r, m, i in ENV_MISTAKES])
def test_the_env_example_lint_catches(rule, mistake, env_example_text, facts, compose_variables):
    problems = lint_env_example(mistake(env_example_text), facts, compose_variables)
    assert any(problem.startswith(f"{rule}:") for problem in problems), problems


# ------------------------------------------------------------------------------------------------ systemd


def test_the_systemd_units_are_clean(units, facts):
    assert lint_units(units, facts) == []


def replace_in(units: dict, name: str, old: str, new: str) -> None:
    units[name] = mutate(units[name], old, new)


UNIT_MISTAKES = [
    ("runs as root", lambda u: replace_in(u, "cpaas-web.service", "User=cpaas\n", "User=root\n"), "root"),
    ("runs as root", lambda u: replace_in(u, "cpaas-beat.service", "User=cpaas\n", ""), "no-user"),
    (
        "not a bin/serve subcommand",
        lambda u: replace_in(u, "cpaas-smpp.service", "serve smpp", "serve smpp_worker"),
        "subcommand",
    ),
    ("not restarted", lambda u: replace_in(u, "cpaas-beat.service", "Restart=on-failure\n", ""), "restart"),
    ("no EnvironmentFile", lambda u: replace_in(u, WORKER_TEMPLATE, "EnvironmentFile=/etc/cpaas/env\n", ""), "env"),
    (
        "shorter than gunicorn's drain",
        lambda u: replace_in(u, "cpaas-web.service", "StopSec=45", "StopSec=10"),
        "drain",
    ),
    ("bin/serve worker %i", lambda u: replace_in(u, WORKER_TEMPLATE, "worker %i", "worker sending"), "instance"),
    (
        "no time to finish",
        lambda u: replace_in(u, "cpaas-worker@imports.service.d/stop-timeout.conf", "=10min", "=15s"),
        "drop-in",
    ),
    ("no Requires=", lambda u: replace_in(u, "cpaas-web.service", "Requires=cpaas-migrate.service\n", ""), "requires"),
    (
        "ProtectSystem=strict",
        lambda u: replace_in(u, "cpaas-migrate.service", "System=strict", "System=full"),
        "hardening",
    ),
    ("ReadWritePaths", lambda u: replace_in(u, "cpaas-web.service", "ReadWritePaths=/var/lib/cpaas\n", ""), "writable"),
    ("2 units run bin/serve beat", lambda u: u.update({"cpaas-beat2.service": u["cpaas-beat.service"]}), "two-beats"),
    ("only migrate is a oneshot", lambda u: replace_in(u, "cpaas-migrate.service", "=oneshot", "=simple"), "oneshot"),
    ("PartOf=", lambda u: replace_in(u, "cpaas-beat.service", "PartOf=cpaas.target\n", ""), "target"),
]


@pytest.mark.parametrize(("message", "mistake"), [pytest.param(r, m, id=i) for r, m, i in UNIT_MISTAKES])
def test_the_systemd_lint_catches(message, mistake, units, facts):
    broken = dict(units)
    mistake(broken)
    assert broken != units
    problems = lint_units(broken, facts)
    assert any(message in problem for problem in problems), problems


def test_systemd_accepts_the_units(tmp_path, units, facts):
    """Where systemd-analyze exists: systemd's own parser, which warns on any unknown key or bad value."""
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed here: the Python lint above stands in for it")
    for name, text in units.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("/opt/cpaas", str(ROOT)).replace("/etc/cpaas/env", str(tmp_path / "env")))
    (tmp_path / "env").write_text("")
    names = [name for name in units if "/" not in name and "@." not in name]
    names += [f"cpaas-worker@{queue}.service" for queue in facts.queues]
    result = subprocess.run(
        [analyze, "verify", "--man=no", *[f"./{name}" for name in names]], cwd=tmp_path, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


# ------------------------------------------------------------------------------------------------ together


def test_bin_serve_and_the_files_run_the_same_queues(facts):
    assert serve_queues(SERVE.read_text()) == facts.queues


def test_compose_and_systemd_give_each_process_the_same_stop_time(compose, units, facts):
    lint = UnitLint(units, facts)
    for queue in facts.queues:
        compose_grace = parse_duration(compose["services"][f"worker-{queue}"]["stop_grace_period"])
        assert compose_grace == lint.stop_seconds(f"cpaas-worker@{queue}.service", WORKER_TEMPLATE), queue
    assert parse_duration(compose["services"]["web"]["stop_grace_period"]) == lint.stop_seconds("cpaas-web.service")


def test_every_file_puts_var_dir_in_the_same_place(compose, image, units):
    systemd = {
        environment_of(merged(units, name)["Service"]).get("VAR_DIR")
        for name in units
        if "/" not in name and name.endswith(".service")
    }
    in_compose = {service["environment"]["VAR_DIR"] for service in compose["services"].values() if "build" in service}
    assert systemd == in_compose == {image.var_dir}
    assert Path(image.var_dir).is_absolute()


def test_the_web_probe_port_is_the_exposed_and_published_one(compose, image, dockerfile_text):
    final = parse(dockerfile_text)[1][-1]
    assert "os.environ.get('PORT', '8000')" in image.healthcheck[-1] and final.env()["PORT"] == "8000"
    assert compose["services"]["web"]["ports"] == ["8000:8000"]


def test_the_gateway_listens_on_the_published_port_for_every_address(compose):
    gateway = compose["services"]["smpp-gateway"]
    port = str(SMPP_GATEWAY_DEFAULTS["SMPP_PORT"])
    assert gateway["command"] == ["gateway"] and gateway["environment"]["SMPP_HOST"] == "0.0.0.0"
    assert gateway["ports"] == [f"{port}:{port}"] and port in " ".join(gateway["healthcheck"]["test"])
