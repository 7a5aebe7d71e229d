"""Per-contact message text: `{{name}}` variables filled from contact fields and attributes, never HTML-escaped.

A body is compiled once (`compile_body`) into fixed runs, variable names and filter chains, then rendered per
contact with plain string joins: Django's template engine would escape `O'Brien` and is ~6x slower. What a
variable is comes from `campaigns.variables`: a malformed one (`{{ name }}`, `{name}`, `{{name|upper}}`) is literal
fixed text, never filled in, and sends refuse such bodies before they get here. Filters
(`{{name|default:'there'|capitalize}}`, `campaigns.template_filters`) apply to the variable's value, however it
was found; a body without filters renders exactly as before, with no extra work per contact.
A campaign's variable mapping says where each variable comes from:
`{"name": {"source": "first_name", "default": "Customer"}, "city": {"source": "attributes.city"}}`;
a variable without a mapping is looked up by its own name (field first, then attribute).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from campaigns.template_filters import FilterFailure, compile_filters, supplies_default
from campaigns.variables import braced, parse_body, variable_names
from contacts.fields import CONTACT_DATA_FIELDS

CONTACT_FIELDS = tuple(field for field in CONTACT_DATA_FIELDS if field != "attributes")
ATTRIBUTE_PREFIX = "attributes."


@dataclass(frozen=True)
class CompiledBody:
    """Fixed text runs interleaved with slots: fixed[0] slot[0] fixed[1] … fixed[n]. `variables` names each slot's
    variable, `expressions` is what its braces hold (the name, or the name and its filters); `chains` lists each
    distinct expression with its variable and its filters as one function (None for a plain name), and is empty
    when the body uses no filter."""

    fixed: tuple[str, ...]
    variables: tuple[str, ...]
    expressions: tuple[str, ...]
    chains: tuple[tuple[str, str, Callable[[object], str] | None], ...] = ()

    def outputs(self, values: Mapping[str, object]) -> Mapping[str, object]:
        """What fills each slot, by expression, from the variables' values (`values` itself when no filter is
        used). Raises `FilterFailure` naming the expression when a filter cannot take a value."""
        if not self.chains:
            return values
        filled = {}
        for expression, name, apply in self.chains:
            if apply is None:
                filled[expression] = values.get(name)
                continue
            try:
                filled[expression] = apply(values.get(name))
            except FilterFailure as failure:
                raise FilterFailure(f"{braced(expression)}: {failure}") from None
        return filled

    def join(self, outputs: Mapping[str, object]) -> str:
        """The text with each slot filled from `outputs` (an expression without output is empty)."""
        parts = [self.fixed[0]]
        for expression, tail in zip(self.expressions, self.fixed[1:], strict=True):
            value = outputs.get(expression)
            parts.append("" if value is None else str(value))
            parts.append(tail)
        return "".join(parts)

    def render(self, values: Mapping[str, object]) -> str:
        return self.join(self.outputs(values))


def compile_body(body: str) -> CompiledBody:
    """The body compiled once per send: each distinct filter chain becomes one function."""
    parsed = parse_body(body)
    expressions = tuple(variable.expression for variable in parsed.variables)
    chains = ()
    if any(variable.filters for variable in parsed.variables):
        distinct = {variable.expression: variable for variable in parsed.variables}
        chains = tuple(
            (expression, variable.name, compile_filters(variable.filters) if variable.filters else None)
            for expression, variable in distinct.items()
        )
    return CompiledBody(parsed.fixed, tuple(variable.name for variable in parsed.variables), expressions, chains)


variables_in = variable_names  # the name the send path uses


def required_variables(body: str) -> list[str]:
    """The variables that need a value (a mapping or `data`): all but those whose every use has `|default:…`."""
    parsed = parse_body(body)
    return list(dict.fromkeys(v.name for v in parsed.variables if not supplies_default(v.filters)))


def render(body: str, values: Mapping[str, object]) -> str:
    """Fill `{{var}}` from `values`; a missing variable renders empty. Raises `FilterFailure`."""
    return compile_body(body).render(values)


def _get(contact, name: str):
    return contact.get(name) if isinstance(contact, Mapping) else getattr(contact, name, None)


def contact_value(contact, source: str):
    """A contact field (`first_name`) or attribute (`attributes.city`, or a bare attribute name).

    `contact` is a Contact or a dict of its values (as `.values()` gives them).
    """
    attributes = _get(contact, "attributes") or {}
    if source.startswith(ATTRIBUTE_PREFIX):
        return attributes.get(source[len(ATTRIBUTE_PREFIX) :])
    if source in CONTACT_FIELDS:
        return _get(contact, source)
    return attributes.get(source)


def fields_needed(variables, mapping: Mapping[str, Mapping]) -> set[str]:
    """Contact columns to load for these variables (`attributes` when any comes from an attribute)."""
    needed = set()
    for name in variables:
        source = (mapping.get(name) or {}).get("source") or name
        needed.add(source if source in CONTACT_FIELDS else "attributes")
    return needed


def values_for(contact, variables: tuple[str, ...] | list[str], mapping: Mapping[str, Mapping]) -> dict[str, str]:
    """Variable values for one contact: the mapped source, else the default, else empty."""
    values = {}
    for name in variables:
        rule = mapping.get(name) or {}
        value = contact_value(contact, rule.get("source") or name) if contact is not None else None
        if value is None or value == "":
            value = rule.get("default", "")
        values[name] = str(value)
    return values


def render_for_contact(body: str, contact, mapping: Mapping[str, Mapping]) -> tuple[str, dict[str, str]]:
    """The text one contact receives and the variable values used."""
    compiled = compile_body(body)
    values = values_for(contact, compiled.variables, mapping)
    return compiled.render(values), values


@dataclass(frozen=True)
class ValueSource:
    """Where one variable's value comes from: a contact column, or a key of `attributes`, and its default."""

    name: str
    column: str | None
    attribute: str | None
    default: str


def value_sources(variables, mapping: Mapping[str, Mapping]) -> tuple[ValueSource, ...]:
    """The variables' sources worked out once per send, for `values_from_row` on every contact."""
    sources = []
    for name in dict.fromkeys(variables):
        rule = mapping.get(name) or {}
        source = rule.get("source") or name
        default = str(rule.get("default", ""))
        if source.startswith(ATTRIBUTE_PREFIX):
            sources.append(ValueSource(name, None, source[len(ATTRIBUTE_PREFIX) :], default))
        elif source in CONTACT_FIELDS:
            sources.append(ValueSource(name, source, None, default))
        else:
            sources.append(ValueSource(name, None, source, default))
    return tuple(sources)


def values_from_row(row: Mapping, sources: tuple[ValueSource, ...]) -> dict[str, str]:
    """`values_for` for a contact given as a dict of its columns (the fast path of campaign preparation)."""
    values = {}
    attributes = row.get("attributes") or {}
    for source in sources:
        value = row.get(source.column) if source.column else attributes.get(source.attribute)
        values[source.name] = source.default if value is None or value == "" else str(value)
    return values
