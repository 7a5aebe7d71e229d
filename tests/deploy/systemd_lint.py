"""The systemd unit examples (deploy/systemd/) read with configparser and checked against the project: each
service runs a real bin/serve command as an unprivileged user with the shared environment file, restarts on
failure, stops gracefully within the time its work needs, waits for the migrations, and is hardened.

`lint_units(units, facts)` takes {file name: text} (drop-ins as "unit.d/file.conf") and returns the problems.
"""

import configparser
import shlex

from tests.deploy.inventory import ProjectFacts, parse_duration

TARGET = "cpaas.target"
MIGRATE = "cpaas-migrate.service"
WORKER_TEMPLATE = "cpaas-worker@.service"
ROOT_USERS = {"", "root", "0"}
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes", "ProtectHome": "yes"}
MIN_WORKER_STOP_SECONDS = 60


def read_unit(text: str) -> configparser.ConfigParser:
    """systemd's syntax as configparser reads it: repeated keys allowed (the last wins), `%i` left alone."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(text)
    return parser


def merged(units: dict[str, str], name: str, template: str | None = None) -> configparser.ConfigParser:
    """A unit with its drop-ins applied, as systemd does: the template's, then the instance's (name order)."""
    parser = read_unit(units[template or name])
    prefixes = tuple(f"{unit}.d/" for unit in (template, name) if unit)
    for drop_in in sorted(key for key in units if key.startswith(prefixes)):
        for section, values in read_unit(units[drop_in]).items():
            if section != "DEFAULT":
                parser.read_dict({section: dict(values)})
    return parser


def environment_of(service: configparser.SectionProxy) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in shlex.split(service.get("Environment", "")))


def words(section: configparser.SectionProxy, key: str) -> list[str]:
    return section.get(key, "").split()


class UnitLint:
    def __init__(self, units: dict[str, str], facts: ProjectFacts):
        self.units, self.facts = units, facts
        self.problems: list[str] = []
        self.commands: dict[str, list[str]] = {}

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def services(self) -> list[str]:
        return sorted(name for name in self.units if name.endswith(".service") and "/" not in name)

    def check_service(self, name: str, unit: configparser.ConfigParser) -> None:
        if not unit.has_section("Service"):
            self.fail(f"{name}: no [Service] section")
            return
        service = unit["Service"]
        command = self._command(name, service)
        executable = shlex.split(service.get("ExecStart", "") or "-")[0]
        if service.get("User", "") in ROOT_USERS:
            self.fail(f"{name}: runs as root (User={service.get('User', '')})")
        for key in ("EnvironmentFile", "WorkingDirectory"):
            if not service.get(key):
                self.fail(f"{name}: no {key}")
        if service.get("WorkingDirectory") and executable != f"{service['WorkingDirectory']}/bin/serve":
            self.fail(f"{name}: ExecStart {executable} is not the bin/serve of WorkingDirectory")
        if service.get("KillSignal") != "SIGTERM":
            self.fail(f"{name}: KillSignal is not SIGTERM (the graceful stop)")
        oneshot = service.get("Type") == "oneshot"
        if oneshot != (command[:1] == ["migrate"]):
            self.fail(f"{name}: Type={service.get('Type', 'simple')} (only migrate is a oneshot)")
        if not oneshot and service.get("Restart") not in ("on-failure", "always", "on-abnormal"):
            self.fail(f"{name}: not restarted on failure")
        for key, value in HARDENING.items():
            if service.get(key) != value:
                self.fail(f"{name}: hardening {key}={value} missing")
        var_dir = environment_of(service).get("VAR_DIR", "")
        if not var_dir or var_dir not in words(service, "ReadWritePaths"):
            self.fail(f"{name}: VAR_DIR ({var_dir or 'unset'}) is not in ReadWritePaths (ProtectSystem=strict)")
        self._check_grouping(name, unit, command)

    def _command(self, name: str, service: configparser.SectionProxy) -> list[str]:
        command = shlex.split(service.get("ExecStart", ""))
        if not command or not command[0].endswith("/bin/serve"):
            self.fail(f"{name}: ExecStart {command} does not run bin/serve")
            return []
        arguments = command[1:]
        if not arguments or arguments[0] not in self.facts.subcommands:
            self.fail(f"{name}: ExecStart {command}: not a bin/serve subcommand")
            return []
        if len(arguments) != (2 if arguments[0] == "worker" else 1):
            self.fail(f"{name}: ExecStart {command}: wrong number of arguments")
        self.commands[name] = arguments
        return arguments

    def _check_grouping(self, name: str, unit: configparser.ConfigParser, command: list[str]) -> None:
        part_of = words(unit["Unit"], "PartOf") if unit.has_section("Unit") else []
        wanted_by = words(unit["Install"], "WantedBy") if unit.has_section("Install") else []
        if TARGET not in part_of or TARGET not in wanted_by:
            self.fail(f"{name}: not PartOf= and WantedBy= {TARGET}")
        if command[:1] != ["migrate"]:
            unit_section = unit["Unit"] if unit.has_section("Unit") else {}
            for key in ("Requires", "After"):
                if MIGRATE not in unit_section.get(key, "").split():
                    self.fail(f"{name}: no {key}={MIGRATE} (it must start after the migrations)")

    def stop_seconds(self, name: str, template: str | None = None) -> float:
        return parse_duration(merged(self.units, name, template)["Service"].get("TimeoutStopSec", "90"))

    def check_all(self) -> None:
        for name in self.services():
            self.check_service(name, merged(self.units, name))
        roles = [arguments[0] for arguments in self.commands.values()]
        for role in ("migrate", "web", "beat", "smpp", "worker"):
            if roles.count(role) != 1:
                self.fail(f"units: {roles.count(role)} units run bin/serve {role}, expected one")
        if self.commands.get(WORKER_TEMPLATE) != ["worker", "%i"]:
            self.fail(f"{WORKER_TEMPLATE}: does not run `bin/serve worker %i` (the instance names the queue)")
        if MIGRATE not in self.commands:
            self.fail(f"units: no {MIGRATE}")
        for name, arguments in self.commands.items():
            if arguments[0] == "web" and self.stop_seconds(name) < self.facts.graceful_timeout + 5:
                self.fail(f"{name}: TimeoutStopSec is shorter than gunicorn's drain ({self.facts.graceful_timeout}s)")
        for queue in self.facts.queues:
            instance = f"cpaas-worker@{queue}.service"
            if WORKER_TEMPLATE in self.units and self.stop_seconds(instance, WORKER_TEMPLATE) < MIN_WORKER_STOP_SECONDS:
                self.fail(f"{instance}: TimeoutStopSec leaves its tasks no time to finish")
        target = read_unit(self.units[TARGET]) if TARGET in self.units else None
        if target is None or "multi-user.target" not in words(target["Install"], "WantedBy"):
            self.fail(f"{TARGET}: missing, or not WantedBy=multi-user.target")


def lint_units(units: dict[str, str], facts: ProjectFacts) -> list[str]:
    lint = UnitLint(units, facts)
    try:
        lint.check_all()
    except configparser.Error as exc:
        return [f"parse: {exc}"]
    return lint.problems
