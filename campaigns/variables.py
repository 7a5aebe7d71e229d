"""The variable grammar of message bodies (shared/rules.md, "Content templates"): the one definition that the
template rules, the matcher, the renderer and the send checks share.

A variable is written `{{name}}`: two opening braces, a name, two closing braces, nothing else (no spaces). A name
starts with an ASCII letter, then ASCII letters, digits or `_` (letters of other scripts are not names: `{{नाम}}` is
malformed, as DLT portals and contact fields use ASCII names). The name may be followed by filters,
`{{name|default:'there'|capitalize}}`, whose grammar is `campaigns.template_filters`. Braces are reserved for
variables, so every other brace is a malformed variable: other text in double braces (`{{ name }}`, `{{1x}}`,
`{{first-name}}`, `{{}}`), a lone `{{` or `}}`, single braces (`{name}`, `{#var#}`, a lone `{` or `}`) and extra
braces (`{{{name}}}`).

A malformed token, or a variable with a wrong filter (`{{name|upper}}`), stays literal fixed text, so it is never
filled in: the rules refuse a template that has one, and sends refuse a free-text body that has one
(`first_malformed_variable`).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from campaigns.template_filters import NAME, Filter, FilterProblem, parse_filters

# A variable (group 1 is its name, group 2 its filters); else a run of opening braces, text without braces or line
# breaks and a run of closing braces; else a run of lone braces. Every brace of a body is in exactly one token.
_BRACES = re.compile(r"\{\{(" + NAME.pattern + r")( *\|[^{}\n]*)?\}\}(?!\})|\{+[^{}\n]*\}+|\{+|\}+")
_FILTERED = re.compile(NAME.pattern + r" *\|")


@dataclass(frozen=True, slots=True)
class Variable:
    """A variable with its span; `expression` is what its braces hold (the name, or the name and its filters)."""

    name: str
    start: int
    end: int
    filters: tuple[Filter, ...] = ()
    expression: str = ""


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
class BadFilter:
    """A variable whose filters are wrong: the token (literal text) and the problem, with its own span."""

    token: str
    start: int
    end: int
    problem: FilterProblem


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """Fixed text and variables in order: `fixed[i]` precedes `variables[i]`; len(fixed) == len(variables) + 1.

    Malformed tokens and variables with wrong filters are part of the fixed text around them and are listed in
    `malformed` and `bad_filters`."""

    fixed: tuple[str, ...]
    variables: tuple[Variable, ...]
    malformed: tuple[Malformed, ...]
    bad_filters: tuple[BadFilter, ...] = ()


def braced(name: str) -> str:
    """A variable as a body writes it: `{{name}}`."""
    return "{{" + name + "}}"


def _tokens(body: str) -> Iterator[Variable | Malformed | BadFilter]:
    """Every brace token of a body in order: a variable, a malformed token or a variable with wrong filters."""
    for match in _BRACES.finditer(body):
        start, end = match.span()
        name = match.group(1)
        if not name:
            yield Malformed(match.group(), start, end)
        elif match.group(2) is None:
            yield Variable(name, start, end, (), name)
        else:
            filters, problem = parse_filters(match.group(2), match.start(2))
            if problem is None:
                yield Variable(name, start, end, filters, body[start + 2 : end - 2])
            else:
                yield BadFilter(match.group(), start, end, problem)


def parse_body(body: str) -> ParsedBody:
    """Split a body into fixed runs and variables, and list the malformed tokens and wrong filters."""
    fixed, variables, malformed, bad_filters = [], [], [], []
    cursor = 0
    for token in _tokens(body):
        if isinstance(token, Variable):
            fixed.append(body[cursor : token.start])
            variables.append(token)
            cursor = token.end
        elif isinstance(token, Malformed):
            malformed.append(token)
        else:
            bad_filters.append(token)
    fixed.append(body[cursor:])
    return ParsedBody(tuple(fixed), tuple(variables), tuple(malformed), tuple(bad_filters))


def variable_names(body: str) -> list[str]:
    """Distinct variable names in order of first appearance."""
    return list(dict.fromkeys(variable.name for variable in parse_body(body).variables))


def malformed_variables(body: str) -> tuple[Malformed, ...]:
    return parse_body(body).malformed


def first_malformed_variable(body: str) -> str | None:
    """A message naming the first malformed variable or wrong filter of a body (for sends to refuse it), or None
    when there is none."""
    for token in _tokens(body):
        if isinstance(token, Malformed):
            return f"{token.hint}."
        if isinstance(token, BadFilter):
            return f"{token.token}: {token.problem.message}."
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
    if not (NAME.fullmatch(name) or _FILTERED.match(name)):
        return f"{token} is not a variable: a name starts with a letter (A-Z, a-z), then letters, digits or _"
    if token == braced(inner):
        return f"Remove the spaces inside {token}: write {braced(name)}"
    if token == "{" + inner + "}":
        return f"{token} uses single braces: write {braced(name)}"
    return f"{token} does not have two braces on each side: write {braced(name)}"
