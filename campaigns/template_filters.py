"""Template filters (BICS "Advanced output"): `{{first_name|default:'there'|capitalize}}`. The one grammar of what
a variable's braces hold, the filters, their checks when a template is saved and their use when a message is
rendered; no ORM, no HTTP. `campaigns.variables` finds the variables of a body and hands each one's filters here.

Inside the braces: a variable name, then any number of filters applied left to right to the variable's value, each
`|name`, `|name:argument` or `|name:argument,argument`. Spaces may surround `|`, `:` and `,`, not the braces
(`{{ name }}` stays malformed). An argument is a string in straight quotes ('…' or "…", no braces or line breaks)
or a number (`-10`, `2.5`). `parse_filters` gives the filters with the span of each name and argument, or the first
problem with its span; `compile_filters` turns them into one function from a value to the text that fills the slot.

A wrong filter (an unknown name, a missing or wrong argument) is found when the body is parsed, so when a template
is saved or validated. A value a filter cannot take (`plus` on "abc", `date_format` on "soon") raises
`FilterFailure` when the message is rendered: that recipient is refused with the reason.
"""

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Context, Decimal, DecimalException
from functools import partial
from urllib.parse import quote

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class Argument:
    """One argument as written (without its quotes), with its span in the body."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Filter:
    """One filter of a chain: its name, its arguments converted for use, and the span from its name to its end."""

    name: str
    arguments: tuple[Argument, ...]
    values: tuple
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class FilterProblem:
    """Why a chain is wrong (no final full stop) and the span it refers to."""

    message: str
    start: int
    end: int


class FilterFailure(ValueError):
    """A value a filter cannot take (not a number, not a date), found when a message is rendered."""


# --- values ------------------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d+)?|\.\d+)")
_MATH = Context(prec=40, rounding=ROUND_HALF_UP)
_TEN_PLACES = Decimal("1e-10")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October")
_MONTHS += ("November", "December")


def _to_number(text: str) -> Decimal:
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        raise FilterFailure(f"{text!r} is not a number")
    return Decimal(stripped)


def _shown(number: Decimal) -> str:
    return format(number, "f")


# The seed's date format letters (PHP's `date`), each a function of the moment.
DATE_LETTERS: dict[str, Callable[[datetime], str]] = {
    "d": lambda m: f"{m.day:02}",
    "j": lambda m: str(m.day),
    "D": lambda m: _DAYS[m.weekday()][:3],
    "l": lambda m: _DAYS[m.weekday()],
    "N": lambda m: str(m.isoweekday()),
    "m": lambda m: f"{m.month:02}",
    "n": lambda m: str(m.month),
    "M": lambda m: _MONTHS[m.month - 1][:3],
    "F": lambda m: _MONTHS[m.month - 1],
    "y": lambda m: f"{m.year % 100:02}",
    "Y": lambda m: f"{m.year:04}",
    "H": lambda m: f"{m.hour:02}",
    "G": lambda m: str(m.hour),
    "h": lambda m: f"{m.hour % 12 or 12:02}",
    "g": lambda m: str(m.hour % 12 or 12),
    "i": lambda m: f"{m.minute:02}",
    "s": lambda m: f"{m.second:02}",
    "A": lambda m: "AM" if m.hour < 12 else "PM",
    "a": lambda m: "am" if m.hour < 12 else "pm",
}
# strftime directives, as the date letter that gives the same text (`%-d` and friends drop the leading zero).
STRFTIME = {"d": "d", "a": "D", "A": "l", "u": "N", "m": "m", "b": "M", "B": "F", "y": "y", "Y": "Y", "H": "H"}
STRFTIME |= {"I": "h", "M": "i", "S": "s", "p": "A", "-d": "j", "-m": "n", "-H": "G", "-I": "g"}
_STRFTIME = re.compile(r"%(-?.)?")


def date_pieces(text: str) -> tuple:
    """A date format compiled into literal text and functions of the moment; a format with `%` is strftime's,
    else the seed's letters (`d/m/Y`), where a backslash makes the next character literal."""
    if not text:
        raise ValueError("date_format needs a format, e.g. date_format:'d/m/Y'")
    pieces: list = []
    if "%" in text:
        cursor = 0
        for match in _STRFTIME.finditer(text):
            pieces.append(text[cursor : match.start()])
            directive = match.group(1) or ""
            if directive == "%":
                pieces.append("%")
            elif directive in STRFTIME:
                pieces.append(DATE_LETTERS[STRFTIME[directive]])
            else:
                known = " ".join(f"%{key}" for key in STRFTIME)
                raise ValueError(f"%{directive} is not a date directive; use {known}")
            cursor = match.end()
        pieces.append(text[cursor:])
    else:
        escaped = False
        for char in text:
            if escaped:
                pieces.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            elif not (char.isascii() and char.isalpha()):
                pieces.append(char)
            elif char in DATE_LETTERS:
                pieces.append(DATE_LETTERS[char])
            else:
                raise ValueError(
                    f"{char!r} is not a date format letter: use {', '.join(DATE_LETTERS)} "
                    f"(write \\{char} for the letter itself)"
                )
    return tuple(piece for piece in pieces if piece != "")


# --- arguments: each kind converts an argument as written, or says why it cannot --------------------------------


def _text(argument: Argument):
    return argument.text


def _filled(argument: Argument):
    if not argument.text.strip():
        raise ValueError("the default value is empty: give the text to use when the variable has no value")
    return argument.text


def _number(argument: Argument):
    if not _NUMBER.fullmatch(argument.text):
        raise ValueError(f"{argument.text!r} is not a number")
    return Decimal(argument.text)


def _divisor(argument: Argument):
    number = _number(argument)
    if not number:
        raise ValueError("dividing by 0 gives no number")
    return number


def _integer(argument: Argument, low: int | None = None, high: int | None = None):
    if not re.fullmatch(r"[+-]?\d+", argument.text):
        raise ValueError(f"{argument.text!r} is not a whole number")
    number = int(argument.text)
    if (low is not None and number < low) or (high is not None and number > high):
        wanted = f"{low} to {high}" if high is not None else f"{low} or more"
        raise ValueError(f"{number} is out of range: give {wanted}")
    return number


_length = partial(_integer, low=1)
_digits = partial(_integer, low=0, high=10)


def _date_format(argument: Argument):
    return date_pieces(argument.text)


# --- the filters -------------------------------------------------------------------------------------------------


def _default(text: str, fallback: str) -> str:
    return text if text.strip() else fallback


def _slice(text: str, offset: int, length: int | None = None) -> str:
    start = offset if offset >= 0 else max(len(text) + offset, 0)
    return text[start:] if length is None else text[start : start + length]


def _truncate(text: str, length: int, ellipsis: str = "...") -> str:
    return text if len(text) <= length else text[: max(length - len(ellipsis), 0)] + ellipsis


def _divided_by(text: str, divisor: Decimal) -> str:
    """Integer division when both are written as integers (10 | divided_by:3 → 3), else up to 10 decimals."""
    number = _to_number(text)
    if number.as_tuple().exponent >= 0 and divisor.as_tuple().exponent >= 0:
        return _shown(_MATH.divide(number, divisor).to_integral_value(rounding=ROUND_FLOOR))
    return _shown(_MATH.divide(number, divisor).quantize(_TEN_PLACES, context=_MATH).normalize(_MATH))


def _round(text: str, digits: int = 0) -> str:
    return _shown(_to_number(text).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP, context=_MATH))


def _date(text: str, pieces: tuple) -> str:
    """An ISO date or date-time (`2024-05-01`, `2024-05-01T09:30:00+05:30`) in the compiled format."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterFailure(f"{text!r} is not a date: give it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS") from None
    return "".join(piece if isinstance(piece, str) else piece(moment) for piece in pieces)


def _arithmetic(operation: Callable[[Decimal, Decimal], Decimal]) -> Callable[[str, Decimal], str]:
    return lambda text, operand: _shown(operation(_to_number(text), operand))


@dataclass(frozen=True)
class FilterSpec:
    apply: Callable[..., str]  # (text, *converted arguments) -> text
    kinds: tuple[Callable[[Argument], object], ...]  # converter of each argument, in order
    required: int
    usage: str
    example: str


FILTERS: dict[str, FilterSpec] = {
    "default": FilterSpec(_default, (_filled,), 1, "default:'text'", "{{first_name|default:'there'}}"),
    "upcase": FilterSpec(str.upper, (), 0, "upcase", "{{city|upcase}}"),
    "downcase": FilterSpec(str.lower, (), 0, "downcase", "{{email|downcase}}"),
    "capitalize": FilterSpec(str.capitalize, (), 0, "capitalize", "{{first_name|capitalize}}"),
    "strip": FilterSpec(str.strip, (), 0, "strip", "{{code|strip}}"),
    "lstrip": FilterSpec(str.lstrip, (), 0, "lstrip", "{{code|lstrip}}"),
    "rstrip": FilterSpec(str.rstrip, (), 0, "rstrip", "{{code|rstrip}}"),
    "slice": FilterSpec(_slice, (_integer, _length), 1, "slice:offset[,length]", "{{mobile|slice:-10}}"),
    "truncate": FilterSpec(_truncate, (_length, _text), 1, "truncate:length[,'ellipsis']", "{{name|truncate:12}}"),
    "append": FilterSpec(lambda text, suffix: text + suffix, (_text,), 1, "append:'text'", "{{amount|append:' EUR'}}"),
    "prepend": FilterSpec(lambda text, prefix: prefix + text, (_text,), 1, "prepend:'text'", "{{order|prepend:'#'}}"),
    "url_encode": FilterSpec(lambda text: quote(text, safe=""), (), 0, "url_encode", "{{email|url_encode}}"),
    "date_format": FilterSpec(_date, (_date_format,), 1, "date_format:'d/m/Y'", "{{due|date_format:'d/m/Y'}}"),
    "plus": FilterSpec(_arithmetic(_MATH.add), (_number,), 1, "plus:number", "{{points|plus:10}}"),
    "minus": FilterSpec(_arithmetic(_MATH.subtract), (_number,), 1, "minus:number", "{{points|minus:10}}"),
    "times": FilterSpec(_arithmetic(_MATH.multiply), (_number,), 1, "times:number", "{{price|times:2}}"),
    "divided_by": FilterSpec(_divided_by, (_divisor,), 1, "divided_by:number", "{{total|divided_by:3}}"),
    "modulo": FilterSpec(_arithmetic(_MATH.remainder), (_divisor,), 1, "modulo:number", "{{n|modulo:2}}"),
    "round": FilterSpec(_round, (_digits,), 0, "round[:decimals]", "{{price|round:2}}"),
    "ceil": FilterSpec(lambda t: _shown(_to_number(t).to_integral_value(ROUND_CEILING)), (), 0, "ceil", "{{n|ceil}}"),
    "floor": FilterSpec(lambda t: _shown(_to_number(t).to_integral_value(ROUND_FLOOR)), (), 0, "floor", "{{n|floor}}"),
}


# --- the grammar -------------------------------------------------------------------------------------------------

_SPACES = re.compile(r" *")
_FILTER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
_BARE = re.compile(r"[^|,:'\" ]+(?: +[^|,:'\" ]+)*")
_SMART_QUOTES = "\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb"  # typographic quotes


class _Problem(Exception):
    """Raised inside the parser to stop at the first problem."""

    def __init__(self, message: str, start: int, end: int):
        super().__init__(message)
        self.problem = FilterProblem(message, start, end)


def parse_filters(chain: str, offset: int = 0) -> tuple[tuple[Filter, ...], FilterProblem | None]:
    """The filters of `chain` (what follows the variable name inside the braces, starting at `offset` in the
    body), or the first problem with its span in the body."""
    filters: list[Filter] = []
    position = 0
    try:
        while position < len(chain):
            filter_, position = _parse_filter(chain, position, offset)
            filters.append(filter_)
    except _Problem as problem:
        return tuple(filters), problem.problem
    return tuple(filters), None


def _skip(chain: str, position: int) -> int:
    return _SPACES.match(chain, position).end()


def _parse_filter(chain: str, position: int, offset: int) -> tuple[Filter, int]:
    here = _skip(chain, position)
    if here == len(chain):
        raise _Problem("Remove the space before }}", offset + position, offset + here)
    if chain[here] != "|":
        stray = _BARE.match(chain, here)
        end = stray.end() if stray else here + 1
        raise _Problem(f"Separate filters with |: {chain[here:end]!r} follows a filter", offset + here, offset + end)
    pipe = here
    here = _skip(chain, here + 1)
    found = _FILTER_NAME.match(chain, here)
    if not found:
        raise _Problem("A filter name is expected after |", offset + pipe, offset + pipe + 1)
    name = found.group()
    spec = FILTERS.get(name)
    if spec is None:
        raise _Problem(unknown_filter_message(name), offset + found.start(), offset + found.end())
    position = found.end()
    arguments: list[Argument] = []
    after = _skip(chain, position)
    if after < len(chain) and chain[after] == ":":
        position = after
        while True:
            argument, position = _parse_argument(chain, _skip(chain, position + 1), offset, position)
            arguments.append(argument)
            after = _skip(chain, position)
            if after >= len(chain) or chain[after] != ",":
                break
            position = after
    start, end = offset + found.start(), (arguments[-1].end if arguments else offset + found.end())
    return Filter(name, tuple(arguments), _convert(spec, name, arguments, start, end), start, end), position


def _parse_argument(chain: str, here: int, offset: int, separator: int) -> tuple[Argument, int]:
    char = chain[here] if here < len(chain) else ""
    if char in ("'", '"'):
        quoted = _QUOTED.match(chain, here)
        if not quoted:
            raise _Problem(f"The string is not closed: add the closing {char}", offset + here, offset + len(chain))
        text = quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
        return Argument(text, offset + here, offset + quoted.end()), quoted.end()
    if char and char in _SMART_QUOTES:
        raise _Problem("Write strings between straight quotes ' or \"", offset + here, offset + here + 1)
    number = _NUMBER.match(chain, here)
    bare = _BARE.match(chain, here)
    if number and (not bare or bare.end() == number.end()):
        return Argument(number.group(), offset + here, offset + number.end()), number.end()
    if bare:
        raise _Problem(f"Put text in quotes: '{bare.group()}'", offset + bare.start(), offset + bare.end())
    raise _Problem(f"An argument is expected after {chain[separator]!r}", offset + separator, offset + separator + 1)


def _convert(spec: FilterSpec, name: str, arguments: list[Argument], start: int, end: int) -> tuple:
    if not spec.required <= len(arguments) <= len(spec.kinds):
        if not spec.kinds:
            raise _Problem(f"The filter {name} takes no argument", start, end)
        raise _Problem(f"Wrong number of arguments for {name}: write {spec.usage}, e.g. {spec.example}", start, end)
    values = []
    for kind, argument in zip(spec.kinds, arguments, strict=False):
        try:
            values.append(kind(argument))
        except ValueError as error:
            raise _Problem(f"{name}: {error}", argument.start, argument.end) from None
    return tuple(values)


_LIKELY = {"upper": "upcase", "lower": "downcase", "trim": "strip", "date": "date_format", "urlencode": "url_encode"}


def unknown_filter_message(name: str) -> str:
    likely = _LIKELY.get(name.lower())
    close = [likely] if likely else difflib.get_close_matches(name.lower(), FILTERS, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"Unknown filter {name!r}{hint}; the filters are {', '.join(sorted(FILTERS))}"


# --- use ---------------------------------------------------------------------------------------------------------


def supplies_default(filters: tuple[Filter, ...]) -> bool:
    """Whether the chain fills the slot even without a value (it has `default`, whose text is never empty)."""
    return any(filter_.name == "default" for filter_ in filters)


def compile_filters(filters: tuple[Filter, ...]) -> Callable[[object], str]:
    """One function from a value (None is empty) to the text the filters give; raises `FilterFailure`."""
    steps = tuple((FILTERS[filter_.name].apply, filter_.values) for filter_ in filters)

    def apply(value) -> str:
        text = "" if value is None else str(value)
        try:
            for function, values in steps:
                text = function(text, *values)
        except DecimalException:
            raise FilterFailure(f"{text!r} gives a number too large to compute") from None
        return text

    return apply
