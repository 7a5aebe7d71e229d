"""compose.yaml checked against the project (what `docker compose config` cannot know): every portal service
runs a real bin/serve command, a worker per queue, one beat, a one-shot migrate the others wait for, health checks,
pinned images, and an environment made only of variables the processes read, with the ones production requires.

`lint_compose(document, image, facts, env_example)` returns the problems found (empty: clean); `document` is the
parsed YAML (anchors and `<<` merges resolved by PyYAML), interpolated by `interpolate` as compose does.
"""

import re
import shlex
from dataclasses import dataclass
from urllib.parse import urlparse

from tests.deploy.dockerfile_lint import Stage, healthcheck_argv
from tests.deploy.inventory import DEVELOPMENT_ONLY, ProjectFacts, parse_duration

INTERPOLATION = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
TRUE_WORDS = {"1", "true", "yes", "on"}
MIN_WORKER_GRACE_SECONDS = 60


@dataclass(frozen=True)
class ImageFacts:
    """What a service of the Dockerfile's image inherits when compose does not say otherwise."""

    entrypoint: list[str]
    command: list[str]
    healthcheck: list[str] | None
    var_dir: str

    @classmethod
    def of(cls, stage: Stage) -> "ImageFacts":
        entrypoint, command = stage.all("ENTRYPOINT")[-1:], stage.all("CMD")[-1:]
        return cls(
            entrypoint=(entrypoint[0].exec_form() or []) if entrypoint else [],
            command=(command[0].exec_form() or []) if command else [],
            healthcheck=healthcheck_argv(stage),
            var_dir=stage.env().get("VAR_DIR", ""),
        )


def interpolation_names(text: str) -> set[str]:
    return {match.group(1) or match.group(4) for match in INTERPOLATION.finditer(text) if match.group(0) != "$$"}


def interpolate(value, env: dict[str, str]):
    """Compose's variable substitution over a parsed document: `${NAME:-default}`, `${NAME:?error}`, `$$`."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1) or match.group(4), match.group(2) or "", match.group(3) or ""
        current = env.get(name)
        missing = current is None or (operator.startswith(":") and current == "")
        if operator.endswith("-"):
            return argument if missing else current
        if operator.endswith("?") and missing:
            raise ValueError(f"{name}: {argument}")
        return current or ""

    return INTERPOLATION.sub(replace, value)


def argv(value) -> list[str]:
    return shlex.split(value) if isinstance(value, str) else list(value or [])


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def env_files(service: dict) -> list[str]:
    files = service.get("env_file") or []
    files = [files] if isinstance(files, str | dict) else files
    return [item["path"] if isinstance(item, dict) else item for item in files]


def image_tag_problem(name: str, image: str | None) -> str | None:
    if not image:
        return f"image: {name} names no image"
    if "@sha256:" in image:
        return None
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if not tag or tag == "latest":
        return f"image: {name} runs {image}, not a pinned tag"
    return None


def _mounts(service: dict) -> dict[str, str]:
    """target -> source of the service's volumes (short syntax `source:target[:mode]` or the long one)."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume.get("source", "")
        else:
            parts = volume.split(":")
            source, target = (parts[0], parts[1]) if len(parts) > 1 else ("", parts[0])
            mounts[target] = source
    return mounts


def _waits_for(service: dict, name: str, condition: str) -> bool:
    depends = service.get("depends_on") or {}
    return isinstance(depends, dict) and (depends.get(name) or {}).get("condition") == condition


class ComposeLint:
    def __init__(self, document: dict, image: ImageFacts, facts: ProjectFacts, env_example: dict):
        self.services: dict[str, dict] = document.get("services") or {}
        self.volumes = document.get("volumes") or {}
        self.image, self.facts, self.env_example = image, facts, env_example
        self.problems: list[str] = []
        built = {service.get("image") for service in self.services.values() if service.get("build")}
        self.portal = {name: s for name, s in self.services.items() if s.get("build") or s.get("image") in built}
        self.commands = {name: self._command(name, service) for name, service in self.portal.items()}
        self.postgres = [name for name, s in self.services.items() if str(s.get("image", "")).startswith("postgres")]
        self.redis = [name for name, s in self.services.items() if str(s.get("image", "")).startswith("redis")]

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def _command(self, name: str, service: dict) -> list[str]:
        entrypoint = argv(service["entrypoint"]) if "entrypoint" in service else self.image.entrypoint
        command = argv(service["command"]) if "command" in service else self.image.command
        full = entrypoint + command
        if not full or not full[0].endswith("bin/serve"):
            self.fail(f"command: {name} runs {full}, not bin/serve")
            return []
        if len(full) < 2 or full[1] not in self.facts.subcommands:
            self.fail(f"command: {name} runs {full}: not a bin/serve subcommand {sorted(self.facts.subcommands)}")
            return []
        arity = 1 if full[1] == "worker" else 0
        if len(full) - 2 != arity:
            self.fail(f"command: {name} runs {full}: bin/serve {full[1]} takes {arity} argument(s)")
            return []
        if full[1] == "worker" and not set(full[2].split(",")) <= set(self.facts.queues):
            self.fail(f"command: {name} consumes {full[2]}: not among the queues {self.facts.queues}")
            return []
        return full[1:]

    def role(self, subcommand: str) -> list[str]:
        return [name for name, command in self.commands.items() if command and command[0] == subcommand]

    def check_images(self) -> None:
        for name, service in self.services.items():
            problem = image_tag_problem(name, service.get("image"))
            if problem:
                self.fail(problem)
        if len({service.get("image") for service in self.portal.values()}) != 1:
            self.fail("image: the portal services do not all run the one image")
        if len(self.postgres) != 1 or len(self.redis) != 1:
            self.fail(f"services: expected one postgres and one redis service, found {self.postgres} {self.redis}")

    def check_roles(self) -> None:
        migrate, web, beat = self.role("migrate"), self.role("web"), self.role("beat")
        if len(migrate) != 1:
            self.fail(f"migrate: expected one migrate service, found {migrate}")
        for name in migrate:
            if self.services[name].get("restart", "no") not in ("no", False):
                self.fail(f'migrate: {name} is restarted (a one-shot has restart: "no")')
        if not web:
            self.fail("web: no web service")
        for name in web:
            ports = [str(port).rsplit(":", 1)[-1].split("/")[0] for port in self.services[name].get("ports") or []]
            if "8000" not in ports:
                self.fail(f"web: {name} publishes no port 8000")
        if len(beat) != 1:
            self.fail(f"beat: expected exactly one beat service, found {beat}")
        for name in beat:
            if (self.services[name].get("deploy") or {}).get("replicas") != 1:
                self.fail(f"beat: {name} does not pin deploy.replicas: 1")
        for name in self.role("smpp"):
            if "smpp" not in (self.services[name].get("profiles") or []):
                self.fail(f"smpp: {name} is not under the smpp profile (it fails without an SMPP connector)")
        self._check_workers()

    def _check_workers(self) -> None:
        served: dict[str, list[str]] = {queue: [] for queue in self.facts.queues}
        for name in self.role("worker"):
            queues = self.commands[name][1].split(",")
            if len(queues) != 1:
                self.fail(f"worker: {name} consumes {queues}: one worker service per queue")
            for queue in queues:
                served[queue].append(name)
            grace = parse_duration(self.services[name].get("stop_grace_period", "10s"))
            if grace < MIN_WORKER_GRACE_SECONDS:
                self.fail(f"worker: {name} is killed {grace:.0f} s after SIGTERM, before its tasks can finish")
        for queue, names in served.items():
            if len(names) != 1:
                self.fail(f"worker: queue {queue} has {len(names)} worker services {names}, expected one")

    def check_order(self) -> None:
        for name in self.role("migrate"):
            for database in self.postgres:
                if not _waits_for(self.services[name], database, "service_healthy"):
                    self.fail(f"depends_on: {name} does not wait for {database} to be healthy")
        for name in self.portal:
            if name in self.role("migrate"):
                continue
            for migrate in self.role("migrate"):
                if not _waits_for(self.services[name], migrate, "service_completed_successfully"):
                    self.fail(f"depends_on: {name} does not wait for {migrate} to complete")
            for backing in self.postgres + self.redis:
                if not _waits_for(self.services[name], backing, "service_healthy"):
                    self.fail(f"depends_on: {name} does not wait for {backing} to be healthy")

    def check_health(self) -> None:
        for name in self.postgres + self.redis:
            if not (self.services[name].get("healthcheck") or {}).get("test"):
                self.fail(f"healthcheck: {name} has none (the others wait for it to be healthy)")
        for name in self.role("web"):
            check = self.services[name].get("healthcheck") or {}
            test = check.get("test") or ([] if check.get("disable") else self.image.healthcheck)
            if not test or not re.search(r"/(healthz|readyz)\b", " ".join(test)):
                self.fail(f"healthcheck: {name} probes neither /healthz nor /readyz")
        for name in self.role("worker"):
            test = " ".join(argv((self.services[name].get("healthcheck") or {}).get("test")))
            node = f"{self.commands[name][1].split(',')[0]}@$HOSTNAME"
            if "inspect ping" not in test or node not in test:
                self.fail(f"healthcheck: {name} does not ping its own worker node {node}")
        for name in self.role("gateway"):
            test = " ".join(argv((self.services[name].get("healthcheck") or {}).get("test")))
            if "create_connection" not in test:
                self.fail(f"healthcheck: {name} does not connect to its SMPP port")
        for name in self.role("beat") + self.role("smpp") + self.role("migrate"):
            check = self.services[name].get("healthcheck") or {}
            if not check.get("disable") and not check.get("test"):
                self.fail(f"healthcheck: {name} inherits the image's web probe (it serves no HTTP)")

    def check_environment(self) -> None:
        known = self.facts.known_env
        for name, service in self.portal.items():
            env = environment(service)
            for variable in sorted(set(env) - known):
                self.fail(f"environment: {name} sets {variable}, which no process reads")
            for variable in sorted(set(env) & DEVELOPMENT_ONLY):
                self.fail(f"environment: {name} sets {variable} (development and tests only)")
            if env.get("DEBUG", "0").strip().lower() in TRUE_WORDS:
                self.fail(f"environment: {name} turns DEBUG on")
            if not env_files(service):
                self.fail(f"environment: {name} reads no env_file (the secrets)")
            given = set(env) | {key for key, (_, is_set) in self.env_example.items() if is_set}
            for variable in sorted(self.facts.required_env - given):
                self.fail(f"environment: {name} lacks {variable}, which production requires")
            self._check_urls(name, env)

    def _check_urls(self, name: str, env: dict[str, str]) -> None:
        expected = {"DATABASE_URL": (("postgres", "postgresql"), self.postgres)}
        expected |= {variable: (("redis",), self.redis) for variable in ("CELERY_BROKER_URL", "CACHE_URL")}
        for variable, (schemes, hosts) in expected.items():
            url = urlparse(env.get(variable, ""))
            if variable in env and (url.scheme not in schemes or url.hostname not in hosts):
                self.fail(f"environment: {name}'s {variable} does not name the {hosts} service")

    def check_storage(self) -> None:
        media = f"{self.image.var_dir}/media"
        sharing = self.role("web") + [n for n in self.role("worker") if "imports" in self.commands[n][1].split(",")]
        sources = {name: _mounts(self.services[name]).get(media) for name in sharing}
        shared = set(sources.values())
        if len(shared) != 1 or not shared <= set(self.volumes):
            self.fail(f"volumes: web and the imports worker do not share a named volume at {media}: {sources}")
        for name in self.postgres:
            if _mounts(self.services[name]).get("/var/lib/postgresql/data") not in self.volumes:
                self.fail(f"volumes: {name} keeps its data in no named volume")
        for name in self.role("web"):
            grace = parse_duration(self.services[name].get("stop_grace_period", "10s"))
            if grace < self.facts.graceful_timeout + 5:
                self.fail(f"web: {name} is killed {grace:.0f} s after SIGTERM, before gunicorn has drained")


def lint_compose(document: dict, image: ImageFacts, facts: ProjectFacts, env_example: dict) -> list[str]:
    lint = ComposeLint(document, image, facts, env_example)
    checks = (lint.check_images, lint.check_roles, lint.check_order, lint.check_health, lint.check_environment)
    for check in (*checks, lint.check_storage):
        check()
    return lint.problems
