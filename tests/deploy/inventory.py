"""What the deployment files must agree with, read from the project itself: bin/serve's subcommands, the queues,
every environment variable a process reads, the ones production requires, gunicorn's drain time.

Read from the sources (not written down twice), so a new setting or subcommand is seen by the lints at once.
"""

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from campaigns.conf import DEFAULTS as SENDING_DEFAULTS
from campaigns.smpp_gateway.conf import DEFAULTS as SMPP_GATEWAY_DEFAULTS
from portal.queues import ALL_QUEUES
from portal.webhooks.conf import DEFAULTS as WEBHOOK_DEFAULTS

ROOT = Path(__file__).resolve().parents[2]
SERVE = ROOT / "bin" / "serve"
SETTINGS = ROOT / "portal" / "settings.py"
CHECKS = ROOT / "portal" / "checks.py"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
ENV_EXAMPLE = ROOT / "deploy" / "env.example"
SYSTEMD_DIR = ROOT / "deploy" / "systemd"
COMPOSE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
# what compose substitutes from an operator's .env: the variables it requires, given a value
COMPOSE_SUBSTITUTIONS = {"POSTGRES_PASSWORD": "a-password-for-the-lint"}
APP_PACKAGES = ("portal", "campaigns", "contacts")

# Settings that exist for development and tests only: a production file never sets them.
DEVELOPMENT_ONLY = frozenset({"CELERY_TASK_ALWAYS_EAGER"})
# The production checks' message says FIELD_ENCRYPTION_KEYS is derived from SECRET_KEY when unset; production
# sets it (settings.py), so the deployment files must carry it whether or not a check enforces it yet.
ALSO_REQUIRED = frozenset({"FIELD_ENCRYPTION_KEYS"})
HELP_WORDS = frozenset({"-h", "--help", "help"})
# names of secrets: SECRET_KEY, FIELD_ENCRYPTION_KEYS, POSTGRES_PASSWORD, METRICS_TOKEN, API_TOKEN_PEPPER
SECRET_NAME = re.compile(r"(^|_)(SECRET|PASSWORD|PASSWD|TOKEN|KEYS?|PEPPER|CREDENTIALS?)$")

ENV_READER = re.compile(r"env_(?:str|bool|int|list)\(\s*\"([A-Z][A-Z0-9_]*)\"")
OS_ENVIRON = re.compile(r"os\.environ(?:\.get\(|\[)\s*[\"']([A-Z][A-Z0-9_]*)[\"']")
SHELL_VARIABLE = re.compile(r"\$\{!?([A-Z_][A-Z0-9_]*)")
SHELL_ARRAY = re.compile(r"^([A-Z_][A-Z0-9_]*)=\(", re.MULTILINE)
ENV_LINE = re.compile(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
CHECKED_NAME = re.compile(r"_is_set\(\"([A-Z][A-Z0-9_]*)\"\)|hint=\"([A-Z][A-Z0-9_]*)=")
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|us|seconds?|sec|s|minutes?|min|m|hours?|hr|h|days?|d)?")
DURATION_UNITS = {
    **dict.fromkeys(("us",), 1e-6),
    **dict.fromkeys(("ms",), 0.001),
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
}


@dataclass(frozen=True)
class ProjectFacts:
    subcommands: frozenset[str]
    queues: tuple[str, ...]
    known_env: frozenset[str]
    documented_env: frozenset[str]  # a production env file must mention each of these
    required_env: frozenset[str]
    graceful_timeout: float  # gunicorn's drain time after SIGTERM (its default)


def serve_subcommands(text: str) -> frozenset[str]:
    """The words bin/serve's `case "$command"` accepts, help and the catch-all left out."""
    block = text.split('case "$command" in', 1)[1].split("esac", 1)[0]
    words = set()
    for pattern in re.findall(r"^[ \t]*([\w*-][\w*| \t-]*)\)", block, re.MULTILINE):
        words.update(word.strip() for word in pattern.split("|"))
    return frozenset(words - HELP_WORDS - {"*"})


def serve_queues(text: str) -> tuple[str, ...]:
    return tuple(re.search(r"^QUEUES=\(([^)]*)\)", text, re.MULTILINE).group(1).split())


def serve_env(text: str, queues: tuple[str, ...]) -> set[str]:
    names = set(SHELL_VARIABLE.findall(text)) - set(SHELL_ARRAY.findall(text))
    if 'name="WORKER_CONCURRENCY_${1^^}"' in text:
        names.update(f"WORKER_CONCURRENCY_{queue.upper()}" for queue in queues)
    return names


def settings_env(text: str) -> set[str]:
    return set(ENV_READER.findall(text))


def required_env(checks_text: str) -> frozenset[str]:
    named = {name for pair in CHECKED_NAME.findall(checks_text) for name in pair if name}
    return frozenset(named | ALSO_REQUIRED)


def _environ_reads(paths) -> set[str]:
    return {name for path in paths for name in OS_ENVIRON.findall(path.read_text())}


def _app_sources():
    for package in APP_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path


def gunicorn_default(name: str) -> float:
    match = re.search(rf"os\.environ\.get\(\"{name}\",\s*\"(\d+)\"\)", GUNICORN_CONF.read_text())
    return float(match.group(1))


def parse_duration(value) -> float:
    """Seconds of a compose duration ("1m30s", "45s") or a systemd time span ("10min", "120", "1h 30min")."""
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip().replace(" ", "")
    parts = DURATION_PART.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"not a duration: {value!r}")
    return sum(float(number) * DURATION_UNITS[unit or "s"] for number, unit in parts)


def env_file_entries(text: str) -> dict[str, tuple[str, bool]]:
    """NAME -> (value, set): `NAME=value` lines are set, `# NAME=default` lines document a default."""
    entries = {}
    for line in text.splitlines():
        match = ENV_LINE.match(line.strip())
        if match:
            entries[match.group(2)] = (match.group(3).strip(), match.group(1) is None)
    return entries


@cache
def project_facts() -> ProjectFacts:
    serve = SERVE.read_text()
    queues = serve_queues(serve)
    settings_names = settings_env(SETTINGS.read_text())
    gunicorn_names = _environ_reads([GUNICORN_CONF])
    serve_names = serve_env(serve, queues)
    known = (
        settings_names
        | gunicorn_names
        | serve_names
        | _environ_reads(_app_sources())
        | set(SENDING_DEFAULTS)
        | set(WEBHOOK_DEFAULTS)
        | set(SMPP_GATEWAY_DEFAULTS)
    )
    return ProjectFacts(
        subcommands=serve_subcommands(serve),
        queues=tuple(ALL_QUEUES),
        known_env=frozenset(known),
        documented_env=frozenset((settings_names | gunicorn_names | serve_names) - DEVELOPMENT_ONLY),
        required_env=required_env(CHECKS.read_text()),
        graceful_timeout=gunicorn_default("WEB_GRACEFUL_TIMEOUT"),
    )
