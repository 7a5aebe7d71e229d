"""Sender ID format rules (shared/rules.md, "Sender IDs"): pure functions returning per-field findings.

India (IN): transactional and service senders are exactly 6 letters (upper-cased); promotional senders (service
MKT) are 6 digits; a DLT entity id (PE ID) is required. Elsewhere: alphanumeric 3-11 characters with at least one
letter, or numeric up to 15 digits. Warnings come from word lists kept as data in campaigns/data/.
"""

import re
from functools import cache
from pathlib import Path

from phonenumbers import SUPPORTED_REGIONS

from campaigns.template_rules import ERROR, NUMERIC_HEADER, WARNING, Finding

DATA_DIR = Path(__file__).resolve().parent / "data"
INDIA = "IN"
PROMOTIONAL_SERVICES = frozenset({"MKT"})

_ALPHA_6 = re.compile(r"[A-Z]{6}\Z")
_DIGITS_6 = NUMERIC_HEADER
_ALPHANUMERIC = re.compile(r"[A-Za-z0-9]{3,11}\Z")
_NUMERIC = re.compile(r"[0-9]{1,15}\Z")
_ENTITY_ID = re.compile(r"[0-9]{10,30}\Z")
_COUNTRY = re.compile(r"[A-Z]{2}\Z")


@cache
def word_list(name: str) -> frozenset[str]:
    """Upper-cased entries of `campaigns/data/<name>.txt` (blank lines and # comments skipped)."""
    lines = (DATA_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().upper() for line in lines if line.strip() and not line.startswith("#"))


def normalize_sender_name(name: str, country_code: str) -> str:
    """Trimmed; Indian alphabetic senders are upper-cased."""
    name = (name or "").strip()
    return name.upper() if (country_code or "").upper() == INDIA else name


def _error(field: str, code: str, message: str, name: str = "") -> Finding:
    return Finding(code, ERROR, message, 0, len(name), field)


def _warning(code: str, message: str, name: str) -> Finding:
    return Finding(code, WARNING, message, 0, len(name), "name")


def validate_sender(
    name: str,
    *,
    country_code: str,
    service: str,
    entity_id: str = "",
    own_brands: tuple[str, ...] = (),
) -> list[Finding]:
    """Errors and warnings for a sender ID; `name` should already be normalized."""
    country = (country_code or "").upper()
    findings: list[Finding] = []
    if not _COUNTRY.match(country) or country not in SUPPORTED_REGIONS:
        findings.append(_error("country_code", "invalid_country", "Use a two-letter ISO country code, e.g. IN or GB."))
    if not name:
        return [*findings, _error("name", "name_required", "Enter a sender ID.")]
    if country == INDIA:
        findings.extend(_india_format(name, service, entity_id))
    else:
        findings.extend(_generic_format(name))
    if not any(f.severity == ERROR and f.field == "name" for f in findings):
        findings.extend(sender_warnings(name, own_brands))
    return findings


def _india_format(name: str, service: str, entity_id: str) -> list[Finding]:
    findings = []
    if service in PROMOTIONAL_SERVICES:
        if not _DIGITS_6.match(name):
            findings.append(
                _error("name", "in_promotional_format", "Promotional senders in India are exactly 6 digits.", name)
            )
    elif _DIGITS_6.match(name):
        findings.append(
            _error(
                "name",
                "in_numeric_not_promotional",
                "Numeric senders in India are for promotional messages: choose the service MKT, or use 6 letters.",
                name,
            )
        )
    elif not _ALPHA_6.match(name):
        findings.append(
            _error(
                "name",
                "in_transactional_format",
                f"Transactional and service senders in India are exactly 6 letters (A-Z); “{name}” has "
                f"{len(name)} characters{'' if name.isalpha() else ' including non-letters'}.",
                name,
            )
        )
    entity_id = (entity_id or "").strip()
    if not entity_id:
        findings.append(
            _error("entity_id", "entity_id_required", "Indian senders need the DLT principal entity id (PE ID).")
        )
    elif not _ENTITY_ID.match(entity_id):
        findings.append(
            _error("entity_id", "entity_id_format", "A DLT entity id is a number of 10 to 30 digits (usually 19).")
        )
    return findings


def _generic_format(name: str) -> list[Finding]:
    if name.isascii() and name.isdigit():
        if _NUMERIC.match(name):
            return []
        return [
            _error(
                "name", "numeric_too_long", f"Numeric senders have at most 15 digits; this one has {len(name)}.", name
            )
        ]
    if not re.fullmatch(r"[A-Za-z0-9]+", name):
        return [
            _error("name", "alphanumeric_characters", "Use letters A-Z and digits only (no spaces or symbols).", name)
        ]
    if not _ALPHANUMERIC.match(name):
        return [
            _error(
                "name",
                "alphanumeric_length",
                f"Alphanumeric senders have 3 to 11 characters; this one has {len(name)}.",
                name,
            )
        ]
    return []


def sender_warnings(name: str, own_brands: tuple[str, ...] = ()) -> list[Finding]:
    upper = name.upper()
    own = {brand.upper().replace(" ", "") for brand in own_brands}
    findings = []
    if upper in word_list("sender_common_words"):
        findings.append(
            _warning("common_word", f"“{name}” is a common word: operators often refuse such senders.", name)
        )
    brand = next((b for b in word_list("sender_brands") if b in upper and b not in own), None)
    if brand:
        findings.append(
            _warning("third_party_brand", f"“{name}” contains the brand {brand}: use only your own brand names.", name)
        )
    if not name.isdigit() and any(char in "0123456789" for char in name):
        findings.append(_warning("digits_in_alpha", "Digits in an alphanumeric sender are often refused.", name))
    return findings
