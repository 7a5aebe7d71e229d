"""The variable grammar of message bodies (shared/rules.md, "Content templates"): the one definition that the
template rules, the matcher, the renderer and the send checks share.

A variable is written `{{name}}`: two opening braces, a name, two closing braces, nothing else (no spaces). A name
starts with an ASCII letter, then ASCII letters, digits or `_` (letters of other scripts are not names: `{{नाम}}` is
malformed, as DLT portals and contact fields use ASCII names). Braces are reserved for variables, so every other
brace is a malformed variable: other text in double braces (`{{ name }}`, `{{1x}}`, `{{first-name}}`, `{{}}`), a
lone `{{` or `}}`, single braces (`{name}`, `{#var#}`, a lone `{` or `}`) and extra braces (`{{{name}}}`).

A malformed token stays literal fixed text, so it is never filled in: the rules refuse a template that has one,
and sends refuse a free-text body that has one (`first_malformed_variable`).
"""

import re
from dataclasses import dataclass

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# A variable (group 1 is its name); else a run of opening braces, text without braces or line breaks and a run of
# closing braces; else a run of lone braces. Every brace of a body is in exactly one token.
_BRACES = re.compile(r"\{\{(" + NAME.pattern + r")\}\}(?!\})|\{+[^{}\n]*\}+|\{+|\}+")


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Malformed:
    """Braces that are not a variable, with their span (end exclusive) in the body."""

    token: str
    start: int
    end: int

    @property
    def hint(self) -> str:
        """What is wrong and how to write it, naming the token (no final full stop)."""
        return malformed_hint(self.token)


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """Fixed text and variables in order: `fixed[i]` precedes `variables[i]`; len(fixed) == len(variables) + 1.

    Malformed tokens are part of the fixed text around them and are listed in `malformed`."""

    fixed: tuple[str, ...]
    variables: tuple[Variable, ...]
    malformed: tuple[Malformed, ...]


def braced(name: str) -> str:
    """A variable as a body writes it: `{{name}}`."""
    return "{{" + name + "}}"


def parse_body(body: str) -> ParsedBody:
    """Split a body into fixed runs and `{{name}}` variables, and list the malformed tokens."""
    fixed, variables, malformed = [], [], []
    cursor = 0
    for match in _BRACES.finditer(body):
        start, end = match.span()
        name = match.group(1)
        if name:
            fixed.append(body[cursor:start])
            variables.append(Variable(name, start, end))
            cursor = end
        else:
            malformed.append(Malformed(match.group(), start, end))
    fixed.append(body[cursor:])
    return ParsedBody(tuple(fixed), tuple(variables), tuple(malformed))


def variable_names(body: str) -> list[str]:
    """Distinct variable names in order of first appearance."""
    return list(dict.fromkeys(variable.name for variable in parse_body(body).variables))


def malformed_variables(body: str) -> tuple[Malformed, ...]:
    return parse_body(body).malformed


def first_malformed_variable(body: str) -> str | None:
    """A message naming the first malformed variable of a body (for sends to refuse it), or None when there is none."""
    for match in _BRACES.finditer(body):
        if not match.group(1):
            return f"{malformed_hint(match.group())}."
    return None


def malformed_hint(token: str) -> str:
    """Why `token` is not a variable and how to write it."""
    inner = token.strip("{}")
    name = inner.strip()
    if not name:
        if "{" in token and "}" in token:
            return f"{token} is an empty variable: write a name inside, e.g. {braced('name')}"
        return f"A lone {token!r}: write variables as {braced('name')}"
    if token == "{#var#}":
        return f"Write variables as {braced('name')}; {{#var#}} is added when exporting to DLT"
    if not NAME.fullmatch(name):
        return f"{token} is not a variable: a name starts with a letter (A-Z, a-z), then letters, digits or _"
    if token == braced(inner):
        return f"Remove the spaces inside {token}: write {braced(name)}"
    if token == "{" + inner + "}":
        return f"{token} uses single braces: write {braced(name)}"
    return f"{token} does not have two braces on each side: write {braced(name)}"
