"""The content-template rule engine (shared/rules.md, "Content templates"): pure functions, no ORM, no HTTP.

`validate_template` returns findings, each with a stable `code`, a severity, a message and the character span
(`start`, `end`, end exclusive) it refers to, so that the editor can underline it. A span of (0, 0) means the
finding is about the template as a whole. Limits are Django settings read at call time:
TEMPLATE_VARIABLE_MAX_LENGTH (default 30) and TEMPLATE_MIN_FIXED_CHARS (default 6).
"""

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass, field

from django.conf import settings

from campaigns.encoding import GSM_CHARACTERS
from campaigns.link_rules import check_short_link_domain
from campaigns.variables import ParsedBody, braced, parse_body, variable_names

ERROR, WARNING = "error", "warning"
TRANSACTIONAL, PROMOTIONAL, SERVICE_IMPLICIT, SERVICE_EXPLICIT = "T", "P", "SI", "SE"
NUMERIC_HEADER = re.compile(r"[0-9]{6}\Z")  # an Indian promotional header
TYPES_NEEDING_VARIABLES = frozenset({TRANSACTIONAL, SERVICE_IMPLICIT, SERVICE_EXPLICIT})
BANK = "bank"

DEFAULT_VARIABLE_MAX_LENGTH = 30
DEFAULT_MIN_FIXED_CHARS = 6

RULES: dict[str, tuple[str, str]] = {
    "double_space": (ERROR, "Two or more consecutive spaces"),
    "leading_space": (ERROR, "A space at the start of a line"),
    "trailing_space": (ERROR, "A space at the end of a line"),
    "angle_bracket": (ERROR, "The characters < and > are not allowed"),
    "malformed_variable": (ERROR, "A variable not written as {{name}}"),
    "bad_filter": (ERROR, "An unknown filter or a wrong filter argument"),
    "missing_variable": (ERROR, "Transactional and service templates need a variable"),
    "too_few_fixed_chars": (ERROR, "Too little fixed text"),
    "only_variables": (ERROR, "The body is only variables"),
    "empty_body": (ERROR, "The body is empty"),
    "styled_font": (ERROR, "Styled-font letters are not allowed"),
    "emoji": (ERROR, "Emoji are not allowed"),
    "non_keyboard_character": (ERROR, "A character that is not on a keyboard"),
    "unicode_in_english": (ERROR, "Non-GSM text in a template marked English"),
    "transactional_not_bank": (ERROR, "Only banks may register transactional templates"),
    "consent_template_missing": (ERROR, "Service Explicit templates need a consent template"),
    "duplicate_body_other_sender": (ERROR, "The same body is registered under another sender"),
    "generic_name": (ERROR, "A generic template name"),
    "hardcoded_value": (WARNING, "Fixed text that looks like a value"),
    "missing_opt_out": (WARNING, "Promotional template without opt-out text"),
    "missing_brand_name": (WARNING, "None of the account's brand names"),
    "url_with_query": (WARNING, "A fixed URL containing ?"),
    "cta_variable": (WARNING, "A variable that carries a URL or call-back number"),
    "legacy_service_explicit": (WARNING, "Service Explicit is a legacy type"),
    "promotional_alpha_header": (ERROR, "A promotional template under an alphabetic header (India)"),
}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: str
    message: str
    start: int = 0
    end: int = 0
    field: str = "body"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AccountFacts:
    """What the rules need to know about the account and the template's neighbours."""

    entity_type: str = "enterprise"
    brand_names: tuple[str, ...] = ()
    other_bodies_by_sender: Mapping[str, Collection[str]] = field(default_factory=dict)
    has_consent_template: bool = False
    links_need_whitelisting: bool = False  # India, short-link domain not marked whitelisted (campaigns.link_rules)


def setting(name: str, default: int) -> int:
    return getattr(settings, name, default) if settings.configured else default


def variable_max_length() -> int:
    return setting("TEMPLATE_VARIABLE_MAX_LENGTH", DEFAULT_VARIABLE_MAX_LENGTH)


def min_fixed_chars() -> int:
    return setting("TEMPLATE_MIN_FIXED_CHARS", DEFAULT_MIN_FIXED_CHARS)


# --- parsing: the variable grammar is campaigns/variables.py --------------------------------------------------

extract_variables = variable_names  # the name the template views and API use


def normalize_newlines(body: str) -> str:
    """Browsers submit textarea line breaks as CRLF; templates and messages use LF."""
    return body.replace("\r\n", "\n").replace("\r", "\n")


def to_dlt_body(body: str) -> str:
    """The body as Indian DLT portals take it: each `{{name}}` becomes `{#var#}`."""
    return "{#var#}".join(parse_body(body).fixed)


def _masked(body: str, parsed: ParsedBody) -> str:
    """The body with each variable replaced by NULs of the same length, so spans stay aligned."""
    chars = list(body)
    for variable in parsed.variables:
        chars[variable.start : variable.end] = "\0" * (variable.end - variable.start)
    return "".join(chars)


# --- helpers -------------------------------------------------------------------------------------------------


def where(body: str, index: int) -> str:
    """Human position: "position 14", or "line 2, column 5" in a multi-line body (1-based)."""
    if "\n" not in body:
        return f"position {index + 1}"
    line = body.count("\n", 0, index) + 1
    column = index - (body.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column}"


def finding(code: str, message: str, start: int = 0, end: int = 0, field: str = "body") -> Finding:
    return Finding(code, RULES[code][0], message, start, end, field)


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """Consecutive indexes grouped into (start, end) spans."""
    spans: list[tuple[int, int]] = []
    for index in indexes:
        if spans and spans[-1][1] == index:
            spans[-1] = (spans[-1][0], index + 1)
        else:
            spans.append((index, index + 1))
    return spans


# --- rules over the text -------------------------------------------------------------------------------------

_MULTI_SPACE = re.compile(r" {2,}")
_LEADING_SPACE = re.compile(r"^ +", re.MULTILINE)
_TRAILING_SPACE = re.compile(r" +$", re.MULTILINE)
_ANGLE = re.compile(r"[<>]")


def check_spaces(body: str) -> list[Finding]:
    findings = []
    for match in _MULTI_SPACE.finditer(body):
        findings.append(
            finding(
                "double_space",
                f"Two or more consecutive spaces at {where(body, match.start())}.",
                match.start(),
                match.end(),
            )
        )
    covered = {(f.start, f.end) for f in findings}
    for pattern, code, text in (
        (_LEADING_SPACE, "leading_space", "starts with a space"),
        (_TRAILING_SPACE, "trailing_space", "ends with a space"),
    ):
        for match in pattern.finditer(body):
            if match.end() > match.start() and (match.start(), match.end()) not in covered:
                line = body.count("\n", 0, match.start()) + 1
                findings.append(finding(code, f"Line {line} {text}.", match.start(), match.end()))
    return findings


def check_angle_brackets(body: str) -> list[Finding]:
    return [
        finding("angle_bracket", f"The character {m.group()} is not allowed (at {where(body, m.start())}).", *m.span())
        for m in _ANGLE.finditer(body)
    ]


def check_malformed_variables(body: str, parsed: ParsedBody) -> list[Finding]:
    return [
        finding("malformed_variable", f"{token.hint} (at {where(body, token.start)}).", token.start, token.end)
        for token in parsed.malformed
    ]


def check_filters(body: str, parsed: ParsedBody) -> list[Finding]:
    """A variable's unknown filter or wrong argument (`{{name|upper}}`, `{{n|plus:'x'}}`), underlined exactly."""
    return [
        finding(
            "bad_filter",
            f"{bad.problem.message} (at {where(body, bad.problem.start)}).",
            bad.problem.start,
            bad.problem.end,
        )
        for bad in parsed.bad_filters
    ]


_STYLED_FONT = re.compile("[\U0001d400-\U0001d7ff]")
_EMOJI = re.compile("[\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff\u200d\ufe0f\U0001f000-\U0001faff\U000e0020-\U000e007f]")


def _is_keyboard_char(char: str) -> bool:
    return char == "\n" or " " <= char <= "~" or char in GSM_CHARACTERS


def _is_script_char(char: str) -> bool:
    """A letter, mark or digit of some script (allowed in Unicode templates)."""
    return unicodedata.category(char)[0] in "LMN"


def check_characters(body: str, is_english: bool) -> list[Finding]:
    """Styled-font letters and emoji are never allowed; English templates take keyboard and GSM characters only."""
    if body.isascii() and "`" not in body and "\t" not in body:
        return []
    by_code: dict[str, list[int]] = {}
    for index, char in enumerate(body):
        code = _character_code(char, is_english)
        if code:
            by_code.setdefault(code, []).append(index)
    messages = {
        "styled_font": "Styled-font letters are not allowed; type plain letters",
        "emoji": "Emoji are not allowed in templates",
        "non_keyboard_character": "Characters that are not on a keyboard (e.g. smart quotes) are not allowed",
        "unicode_in_english": "Text outside the GSM character set: untick “English” and submit the template as Unicode",
    }
    findings = []
    for code, indexes in by_code.items():
        for start, end in _runs(indexes):
            findings.append(
                finding(code, f"{messages[code]}: {body[start:end]!r} at {where(body, start)}.", start, end)
            )
    return sorted(findings, key=lambda f: f.start)


def _character_code(char: str, is_english: bool) -> str | None:
    if _STYLED_FONT.match(char):
        return "styled_font"
    if _EMOJI.match(char):
        return "emoji"
    if not is_english:
        return None
    if char in GSM_CHARACTERS:
        return None
    if char == "`" or (ord(char) > 127 and _is_script_char(char)):
        return "unicode_in_english"
    if _is_keyboard_char(char):
        return None
    return "non_keyboard_character"


def check_structure(body: str, parsed: ParsedBody, template_type: str) -> list[Finding]:
    if not body.strip():
        return [finding("empty_body", "The body is empty.")]
    findings = []
    if template_type in TYPES_NEEDING_VARIABLES and not parsed.variables:
        findings.append(
            finding(
                "missing_variable",
                "Transactional and service templates must contain at least one variable, e.g. {{otp}}.",
            )
        )
    fixed_count = sum(len(text) - sum(text.count(c) for c in " \n\r") for text in parsed.fixed)
    minimum = min_fixed_chars()
    if parsed.variables and fixed_count == 0:
        findings.append(finding("only_variables", "The body is only variables: add the fixed text of the message."))
    elif fixed_count < minimum:
        findings.append(
            finding(
                "too_few_fixed_chars",
                f"The template has {fixed_count} fixed characters (spaces not counted); at least {minimum} are needed.",
            )
        )
    return findings


# --- rules over the account ----------------------------------------------------------------------------------


def check_account(body: str, template_type: str, facts: AccountFacts, sender: str | None) -> list[Finding]:
    findings = []
    if template_type == TRANSACTIONAL and facts.entity_type != BANK:
        findings.append(
            finding(
                "transactional_not_bank",
                "Only bank accounts may register Transactional (T) templates: use Service Implicit (SI) instead.",
                field="type",
            )
        )
    if template_type == SERVICE_EXPLICIT and not facts.has_consent_template:
        findings.append(
            finding(
                "consent_template_missing",
                "A Service Explicit (SE) template needs a linked consent template.",
                field="consent_template",
            )
        )
    normalized = _normalize_body(body)
    for other_sender, bodies in facts.other_bodies_by_sender.items():
        if other_sender != sender and normalized in {_normalize_body(b) for b in bodies}:
            findings.append(
                finding(
                    "duplicate_body_other_sender",
                    f"The same body is already registered under sender {other_sender}: "
                    "operators reject the same content against multiple headers.",
                )
            )
            break
    return findings


def _normalize_body(body: str) -> str:
    return body.strip()


_GENERIC_NAME = re.compile(r"\s*(template|test|sample|sms)[\s_-]*\d*\s*\Z", re.IGNORECASE)


def check_name(name: str) -> list[Finding]:
    if _GENERIC_NAME.match(name):
        return [
            finding(
                "generic_name",
                f"“{name.strip()}” is a generic name: name the template after what it says (e.g. “Order shipped”).",
                0,
                len(name),
                field="name",
            )
        ]
    return []


# --- warnings ------------------------------------------------------------------------------------------------

_URL = re.compile(
    r"(?:https?://|www\.)[^\s\0]+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|in|org|net|co|io|ly)/[^\s\0]*", re.I
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_AMOUNT = re.compile(
    r"(?:₹|\$|€|£|\b(?:Rs|INR|USD|EUR|GBP)\.?)\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:INR|USD|EUR|GBP|rupees|Rs)\b",
    re.I,
)
_DATE = re.compile(
    r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
    r"|\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{2,4}\b",
    re.I,
)
_LONG_NUMBER = re.compile(r"\b\d{4,}\b")
_OPT_OUT = re.compile(r"opt[\s-]?out|unsubscribe|\bSTOP\b", re.I)
_CTA_NAME = re.compile(r"url|link|site|web|call|phone|mobile|number|contact|tel|whatsapp|cta", re.I)
_CTA_BEFORE = re.compile(
    r"(?:https?://\S*|www\.\S*|/)\Z|\b(?:call|dial|contact|whatsapp|visit|click|ring)\b(?:\s+\w+){0,2}\s*:?\s*\Z", re.I
)

_DIGIT = re.compile(r"\d")


def _may_hold_url(text: str) -> bool:
    return "/" in text or "www." in text.lower()


# (pattern, what it looks like, cheap test that must pass before the pattern is tried)
VALUE_PATTERNS = (
    (_URL, "a URL", _may_hold_url),
    (_EMAIL, "an e-mail address", lambda text: "@" in text),
    (_AMOUNT, "an amount", lambda text: _DIGIT.search(text) is not None),
    (_DATE, "a date", lambda text: _DIGIT.search(text) is not None),
    (_LONG_NUMBER, "a number of 4 or more digits", lambda text: _DIGIT.search(text) is not None),
)


def check_hardcoded_values(body: str, masked: str, template_type: str) -> list[Finding]:
    if template_type not in TYPES_NEEDING_VARIABLES:
        return []
    findings, taken = [], []
    for pattern, kind, applies in VALUE_PATTERNS:
        if not applies(masked):
            continue
        for match in pattern.finditer(masked):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            taken.append((start, end))
            findings.append(
                finding(
                    "hardcoded_value",
                    f"{body[start:end]!r} looks like {kind}: if it changes per message, make it a variable.",
                    start,
                    end,
                )
            )
    return sorted(findings, key=lambda f: f.start)


def check_opt_out(body: str, template_type: str) -> list[Finding]:
    if template_type == PROMOTIONAL and not _OPT_OUT.search(body):
        return [
            finding(
                "missing_opt_out", "Promotional templates should say how to opt out, e.g. “To opt-out, send STOP to …”."
            )
        ]
    return []


def check_brand(body: str, facts: AccountFacts) -> list[Finding]:
    brands = [brand for brand in facts.brand_names if brand.strip()]
    if brands and not any(brand.casefold() in body.casefold() for brand in brands):
        return [
            finding(
                "missing_brand_name",
                f"None of the account's brand names ({', '.join(brands)}) appears: DLT providers expect the brand.",
            )
        ]
    return []


def check_cta(body: str, parsed: ParsedBody, masked: str) -> list[Finding]:
    findings = []
    for match in _URL.finditer(masked) if _may_hold_url(masked) else ():
        if "?" in match.group():
            findings.append(
                finding(
                    "url_with_query",
                    f"The URL {match.group()!r} contains '?': DLT rejects whitelisted URLs with query strings.",
                    *match.span(),
                )
            )
    for index, variable in enumerate(parsed.variables):
        before = parsed.fixed[index][-40:]
        if _CTA_NAME.search(variable.name) or _CTA_BEFORE.search(before):
            findings.append(
                finding(
                    "cta_variable",
                    f"{braced(variable.name)} seems to carry a URL or call-back number: "
                    "in India these must be whitelisted on the DLT portal.",
                    variable.start,
                    variable.end,
                )
            )
    return findings


def promotional_header_problem(name: str, country: str) -> str | None:
    """India: promotional traffic (P templates, MKT sends) leaves only from numeric 6-digit headers."""
    if (country or "").upper() == "IN" and not NUMERIC_HEADER.match(name or ""):
        return f"In India promotional messages are sent only from 6-digit numeric headers; {name} is not one."
    return None


def check_promotional_header(template_type: str, sender: str | None, country: str | None) -> list[Finding]:
    """India: a promotional template is registered only under a numeric 6-digit header."""
    problem = promotional_header_problem(sender or "", country or "") if template_type == PROMOTIONAL else None
    return [finding("promotional_alpha_header", problem, field="sender")] if sender and problem else []


def check_legacy_type(template_type: str) -> list[Finding]:
    if template_type == SERVICE_EXPLICIT:
        return [
            finding(
                "legacy_service_explicit",
                "India retired Service Explicit (SE) in 2025: it is kept for existing templates and sent under "
                "the promotional rules (09:00 to 21:00 IST).",
                field="type",
            )
        ]
    return []


# --- entry point ---------------------------------------------------------------------------------------------


def validate_template(
    body: str,
    *,
    template_type: str,
    is_english: bool,
    facts: AccountFacts | None = None,
    name: str | None = None,
    sender: str | None = None,
    sender_country: str | None = None,
) -> list[Finding]:
    """Every error and warning for a template body (and its name when given), errors first, then by position."""
    facts = facts or AccountFacts()
    parsed = parse_body(body)
    masked = _masked(body, parsed)
    findings = [
        *check_spaces(body),
        *check_angle_brackets(body),
        *check_malformed_variables(body, parsed),
        *check_filters(body, parsed),
        *check_characters(body, is_english),
        *check_structure(body, parsed, template_type),
        *check_account(body, template_type, facts, sender),
        *(check_name(name) if name is not None else ()),
        *check_hardcoded_values(body, masked, template_type),
        *check_opt_out(body, template_type),
        *check_brand(body, facts),
        *check_cta(body, parsed, masked),
        *(Finding(*raw) for raw in check_short_link_domain(parsed, masked, facts.links_need_whitelisting)),
        *check_legacy_type(template_type),
        *check_promotional_header(template_type, sender, sender_country),
    ]
    return sorted(findings, key=lambda f: (f.severity != ERROR, f.field != "body", f.start, f.code))


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)
