"""A Dockerfile read into stages of instructions, and hadolint's rules that matter for this image, in Python
(no hadolint binary here): pinned multi-stage bases, a non-root user, lean apt and pip layers, no secrets in the
image's environment, exec-form start-up, a health check.

`lint_dockerfile(text)` returns the problems found, each naming its rule (empty: clean).
"""

import json
import re
import shlex
from dataclasses import dataclass, field

from tests.deploy.inventory import SECRET_NAME

ROOT_USERS = {"root", "0"}
BUILD_TOOLS = {"build-essential", "gcc", "g++", "make", "clang", "cargo", "rustc", "git", "pkg-config"}
VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
ARCHIVE = re.compile(r"\.(tar|tar\.gz|tgz|tar\.bz2|tar\.xz)$")


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form instruction, else None (shell form)."""
        try:
            value = json.loads(self.args)
        except ValueError:
            return None
        return value if isinstance(value, list) and all(isinstance(item, str) for item in value) else None

    def pairs(self) -> dict[str, str]:
        """NAME=value pairs of ENV, ARG or LABEL (`ENV NAME value`, the legacy form, too)."""
        words = shlex.split(self.args)
        if self.keyword == "ENV" and words and "=" not in words[0]:
            return {words[0]: " ".join(words[1:])}
        return {word.partition("=")[0]: word.partition("=")[2] for word in words}


@dataclass
class Stage:
    base: str  # as written
    image: str  # with the ARG defaults substituted
    name: str | None
    line: int
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> list[Instruction]:
        return [instruction for instruction in self.instructions if instruction.keyword == keyword]

    def env(self) -> dict[str, str]:
        merged: dict[str, str] = {}
        for instruction in self.all("ENV"):
            merged.update(instruction.pairs())
        return merged


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction text): continuations joined, comment lines dropped."""
    lines, current, start = [], "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if not current:
            start = number
        if stripped.endswith("\\"):
            current += stripped[:-1].rstrip() + " "
            continue
        lines.append((start, current + stripped))
        current = ""
    if current:
        lines.append((start, current.strip()))
    return lines


def substitute(value: str, args: dict[str, str]) -> str:
    """`${NAME}`, `${NAME:-default}` and `$NAME` replaced by the ARG values; an unknown one is left as written."""

    def replace(match):
        name, default = match.group(1) or match.group(3), match.group(2)
        if args.get(name):
            return args[name]
        return default if default is not None else match.group(0)

    return VARIABLE.sub(replace, value)


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """The global ARGs (before the first FROM) and the stages."""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line, instruction_text in logical_lines(text):
        keyword, _, args = instruction_text.partition(" ")
        instruction = Instruction(keyword.upper(), args.strip(), line)
        if instruction.keyword == "FROM":
            words = [word for word in instruction.args.split() if not word.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], substitute(words[0], global_args), name, line))
        elif not stages:
            if instruction.keyword == "ARG":
                global_args.update(instruction.pairs())
        else:
            stages[-1].instructions.append(instruction)
    return global_args, stages


def _image_problems(stage: Stage, earlier_names: set[str]) -> list[str]:
    if stage.base in earlier_names:
        return []
    image = stage.image
    if "$" in image:
        return [f"from-tag: line {stage.line}: FROM {stage.base} does not resolve to an image"]
    if "@sha256:" in image:
        return []
    tag = image.rsplit("/", 1)[-1].partition(":")[2]
    if not tag:
        return [f"from-tag: line {stage.line}: FROM {image} has no tag (it floats with :latest)"]
    if tag == "latest":
        return [f"from-tag: line {stage.line}: FROM {image} uses :latest"]
    return []


def _run_problems(instruction: Instruction) -> list[str]:
    command, at = instruction.args, f"line {instruction.line}"
    problems = []
    if re.search(r"\bapt(-get)? install\b", command):
        if "--no-install-recommends" not in command:
            problems.append(f"apt-recommends: {at}: apt-get install without --no-install-recommends")
        if not re.search(r"rm -rf /var/lib/apt/lists", command):
            problems.append(f"apt-lists: {at}: apt-get install without rm -rf /var/lib/apt/lists/* in the same RUN")
        if not re.search(r"\bapt(-get)? update\b", command):
            problems.append(f"apt-update: {at}: apt-get install without apt-get update in the same RUN")
        if not re.search(r"install\s+(.*\s)?(-y|--yes|-qq|--assume-yes)\b", command):
            problems.append(f"apt-yes: {at}: apt-get install without -y")
    for pip_command in re.findall(r"\bpip3?\s+install\b[^&;|]*", command):
        if "--no-cache-dir" not in pip_command:
            problems.append(f"pip-cache: {at}: pip install without --no-cache-dir")
    if re.search(r"(^|[\s;&|])sudo\s", command):
        problems.append(f"sudo: {at}: sudo in RUN")
    return problems


def apt_packages(instruction: Instruction) -> set[str]:
    packages = set()
    for install in re.findall(r"\bapt(?:-get)? install\b([^&;|]*)", instruction.args):
        packages.update(word for word in install.split() if not word.startswith("-"))
    return packages


def _secret_problems(stages: list[Stage], global_args: dict[str, str]) -> list[str]:
    problems = []
    literal = [("ARG", name, value) for name, value in global_args.items()]
    for stage in stages:
        for instruction in stage.all("ENV") + stage.all("ARG"):
            literal += [(instruction.keyword, name, value) for name, value in instruction.pairs().items()]
    for keyword, name, value in literal:
        if SECRET_NAME.search(name) and value:
            problems.append(f"env-secret: {keyword} {name} has a literal value baked into the image")
    runs_with_secrets = [
        run.line
        for stage in stages
        for run in stage.all("RUN")
        if any(SECRET_NAME.search(name) for name in re.findall(r"(?:^|\s)([A-Z][A-Z0-9_]*)=", run.args))
    ]
    if len(runs_with_secrets) > 1:
        problems.append(f"env-secret: throwaway secret values in more than one RUN (lines {runs_with_secrets})")
    return problems


def _final_stage_problems(final: Stage, earlier_names: set[str]) -> list[str]:
    problems = []
    users = final.all("USER")
    if not users:
        problems.append("user: the final stage never sets USER (it runs as root)")
    elif users[-1].args.split(":")[0] in ROOT_USERS:
        problems.append(f"user: line {users[-1].line}: the last USER is root")
    starts = final.all("ENTRYPOINT")[-1:] + final.all("CMD")[-1:]
    if users and any(start.line < users[-1].line for start in starts):
        problems.append(f"user: line {users[-1].line}: USER comes after ENTRYPOINT/CMD")
    for keyword in ("ENTRYPOINT", "CMD"):
        instructions = final.all(keyword)
        if not instructions:
            problems.append(f"exec-form: the final stage has no {keyword}")
        elif instructions[-1].exec_form() is None:
            problems.append(f"exec-form: line {instructions[-1].line}: {keyword} is in shell form (signals miss it)")
    checks = final.all("HEALTHCHECK")
    if not checks or checks[-1].args.upper() == "NONE":
        problems.append("healthcheck: the final stage has no HEALTHCHECK")
    for run in final.all("RUN"):
        tools = {package for package in apt_packages(run) if package in BUILD_TOOLS or package.endswith("-dev")}
        if tools:
            problems.append(f"build-tools: line {run.line}: the final stage installs {sorted(tools)}")
    copies_from = {
        flag.partition("=")[2] for copy in final.all("COPY") for flag in copy.args.split() if flag.startswith("--from=")
    }
    if not copies_from & earlier_names:
        problems.append("stages: the final stage copies nothing from an earlier stage")
    return problems


def lint_dockerfile(text: str) -> list[str]:
    global_args, stages = parse(text)
    if not stages:
        return ["stages: no FROM"]
    problems = []
    if len(stages) < 2:
        problems.append("stages: one stage only (build tools end up in the image)")
    names: set[str] = set()
    for stage in stages:
        problems += _image_problems(stage, names)
        names.update(filter(None, [stage.name]))
        for instruction in stage.instructions:
            if instruction.keyword == "RUN":
                problems += _run_problems(instruction)
            if instruction.keyword == "ADD":
                sources = [word for word in instruction.args.split()[:-1] if not word.startswith("--")]
                if any(re.match(r"https?://", source) for source in sources):
                    problems.append(f"add-url: line {instruction.line}: ADD of a URL (unverified download)")
                elif not all(ARCHIVE.search(source) for source in sources):
                    problems.append(f"add-local: line {instruction.line}: ADD of a plain file (use COPY)")
            if instruction.keyword == "WORKDIR" and not instruction.args.startswith(("/", "$")):
                problems.append(f"workdir: line {instruction.line}: WORKDIR {instruction.args} is relative")
    external = {stage.image for stage in stages if stage.base not in names}
    if len(external) > 1:
        problems.append(f"same-base: the stages start from different images {sorted(external)}")
    if "slim" not in stages[-1].image:
        problems.append(f"slim-base: the final stage is not a slim image ({stages[-1].image})")
    problems += _secret_problems(stages, global_args)
    problems += _final_stage_problems(stages[-1], {stage.name for stage in stages[:-1] if stage.name})
    return problems


def healthcheck_argv(stage: Stage) -> list[str] | None:
    """The exec-form command of the stage's HEALTHCHECK (`HEALTHCHECK [options] CMD [...]`), else None."""
    checks = stage.all("HEALTHCHECK")
    if not checks or " CMD " not in f" {checks[-1].args} ":
        return None
    command = Instruction("CMD", checks[-1].args.split("CMD", 1)[1].strip(), checks[-1].line)
    return command.exec_form()
