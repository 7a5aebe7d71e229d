"""Stop and start keywords in inbound SMS (pure: no database, no HTTP).

A message is a keyword when, after trimming surrounding whitespace and punctuation and ignoring case, it is
exactly one of the account's words. A trailing "ALL" is tolerated ("STOP ALL" is a stop), and so are spaces
inside the word ("STOP ALL" also reads as "STOPALL"). Anything longer ("stopp", "stop sending me offers")
is not a keyword: an opt-out must be unambiguous, and the text is kept on the inbound message for review.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

DEFAULT_STOP_WORDS: tuple[str, ...] = ("STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT")
DEFAULT_START_WORDS: tuple[str, ...] = ("START", "UNSTOP")

_EDGES = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"\s+")


class KeywordKind(StrEnum):
    STOP = "stop"
    START = "start"


@dataclass(frozen=True)
class KeywordMatch:
    kind: KeywordKind
    word: str


def normalize_keyword(text: str) -> str:
    """Upper-cased text without surrounding whitespace/punctuation and with single spaces inside."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _EDGES.sub("", text)
    return _SPACES.sub(" ", text).upper()


def clean_word_list(words: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated keywords in their given order (for settings forms and the API)."""
    cleaned: list[str] = []
    for word in words:
        normal = normalize_keyword(word)
        if normal and normal not in cleaned:
            cleaned.append(normal)
    return cleaned


def _candidates(normal: str) -> list[str]:
    forms = [normal, normal.replace(" ", "")]
    if normal.endswith(" ALL") and len(normal) > len(" ALL"):
        forms.append(normal[: -len(" ALL")])
    return forms


def detect_keyword(
    text: str,
    *,
    stop_words: Iterable[str] = DEFAULT_STOP_WORDS,
    start_words: Iterable[str] = DEFAULT_START_WORDS,
) -> KeywordMatch | None:
    """The stop or start keyword the whole message consists of, or None. Stop wins if a word is in both lists."""
    normal = normalize_keyword(text)
    if not normal:
        return None
    stops, starts = set(clean_word_list(stop_words)), set(clean_word_list(start_words))
    for candidate in _candidates(normal):
        if candidate in stops:
            return KeywordMatch(KeywordKind.STOP, candidate)
    for candidate in _candidates(normal):
        if candidate in starts:
            return KeywordMatch(KeywordKind.START, candidate)
    return None
