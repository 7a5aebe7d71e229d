"""Match a message text to the approved template it was written from (shared/rules.md, "Matching").

Fixed text must match exactly; each variable matches 1..N characters (TEMPLATE_VARIABLE_MAX_LENGTH, default 30).
Templates are compiled once into a `TemplateMatcher`: each template gets a regex, and an inverted index maps its
rarest whole word (a word of its fixed text with whitespace or the body's edge on both sides, so it must appear as
a whole word in any matching message) to the template. A message only tries the templates indexed under its own
words (plus the few templates that have no whole word), so matching stays fast with thousands of templates.

`match_message(account, sender, text)` is the Django-facing entry: it compiles the account's approved, non-blocked
templates per sender once and keeps them in a process cache, dropped at once when this process changes a template,
blocked template or sender (model signals), and rebuilt in other processes when the account's fingerprint (counts
and latest update times) moves, which is checked at most once a second.
"""

import difflib
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Max
from django.db.models.signals import post_delete, post_save

from campaigns.models import BlockedTemplate, Sender, Template
from campaigns.template_rules import variable_max_length
from campaigns.variables import braced, parse_body

CLOSEST_CANDIDATES = 8


@dataclass(frozen=True, slots=True)
class Difference:
    """Where a message departs from a template: the message offset, what the template expects there, what is there."""

    position: int
    expected: str
    found: str
    reason: str


@dataclass(slots=True)
class MatchResult:
    template: Any = None
    values: dict[str, str] = field(default_factory=dict)
    reason: str = ""
    closest: Any = None
    difference: Difference | None = None

    @property
    def matched(self) -> bool:
        return self.template is not None


@dataclass(slots=True)
class CompiledTemplate:
    key: Any
    fixed: tuple[str, ...]
    names: tuple[str, ...]
    regex: str
    min_length: int
    max_length: int
    fixed_length: int
    words: frozenset[str]
    compiled: re.Pattern | None = None

    def fullmatch(self, text: str) -> re.Match | None:
        """Compiled on first use: most templates of a large account are never a candidate."""
        if self.compiled is None:
            self.compiled = re.compile(self.regex, re.DOTALL)
        return self.compiled.fullmatch(text)


def compile_template(key: Any, body: str, max_length: int) -> CompiledTemplate:
    parsed = parse_body(body)
    names = tuple(variable.name for variable in parsed.variables)
    group = f"(.{{1,{max_length}}}?)"
    regex = group.join(re.escape(text) for text in parsed.fixed)
    fixed_length = sum(len(text) for text in parsed.fixed)
    return CompiledTemplate(
        key=key,
        fixed=parsed.fixed,
        names=names,
        regex=regex,
        min_length=fixed_length + len(names),
        max_length=fixed_length + len(names) * max_length,
        fixed_length=fixed_length,
        words=frozenset(_whole_words(parsed.fixed)),
    )


def _whole_words(fixed: tuple[str, ...]) -> list[str]:
    """Words of the fixed text bounded by whitespace or the body's edges (never glued to a variable value)."""
    words = []
    last = len(fixed) - 1
    for index, text in enumerate(fixed):
        pieces = text.split()
        if not pieces:
            continue
        if index > 0 and not text[0].isspace():
            pieces = pieces[1:]
        if index < last and pieces and not text[-1].isspace():
            pieces = pieces[:-1]
        words.extend(pieces)
    return words


class TemplateMatcher:
    """Compiled templates of one sender with a word index; `match(text)` is the fast path."""

    def __init__(self, templates: Iterable[tuple[Any, str]], max_length: int | None = None) -> None:
        self.max_length = max_length or variable_max_length()
        self.compiled = [compile_template(key, body, self.max_length) for key, body in templates]
        frequency = Counter(word for item in self.compiled for word in item.words)
        self.by_word: dict[str, list[CompiledTemplate]] = defaultdict(list)
        self.unindexed: list[CompiledTemplate] = []
        self.all_words: dict[str, list[int]] = defaultdict(list)
        for position, item in enumerate(self.compiled):
            for word in item.words:
                self.all_words[word].append(position)
            if item.words:
                anchor = min(item.words, key=lambda word: (frequency[word], -len(word), word))
                self.by_word[anchor].append(item)
            else:
                self.unindexed.append(item)
        self.by_word = dict(self.by_word)
        self.all_words = dict(self.all_words)

    def __len__(self) -> int:
        return len(self.compiled)

    def candidates(self, text: str) -> list[CompiledTemplate]:
        found = list(self.unindexed)
        for word in set(text.split()):
            bucket = self.by_word.get(word)
            if bucket:
                found.extend(bucket)
        return found

    def match(self, text: str) -> MatchResult:
        """The most specific template (most fixed text) the text matches, with its variable values."""
        length = len(text)
        best, best_values = None, None
        for item in self.candidates(text):
            if not item.min_length <= length <= item.max_length:
                continue
            if best is not None and item.fixed_length <= best.fixed_length:
                continue
            found = item.fullmatch(text)
            if found:
                best, best_values = item, found.groups()
        if best is not None:
            values: dict[str, str] = {}
            for name, value in zip(best.names, best_values, strict=True):
                values.setdefault(name, value)
            return MatchResult(template=best.key, values=values)
        return self.explain(text)

    def explain(self, text: str) -> MatchResult:
        """No template matched: the closest template by fixed text and the first difference."""
        if not self.compiled:
            return MatchResult(reason="The sender has no approved templates.")
        closest = self._closest(text)
        difference = first_difference(closest, text, self.max_length)
        reason = f"No approved template matches. Closest: {closest.key}; {difference.reason}"
        return MatchResult(reason=reason, closest=closest.key, difference=difference)

    def _closest(self, text: str) -> CompiledTemplate:
        """The template sharing most whole words with the text; near ties are ranked by similarity of fixed text."""
        overlap: Counter = Counter()
        for word in set(text.split()):
            overlap.update(self.all_words.get(word, ()))
        ranked = overlap.most_common(CLOSEST_CANDIDATES)
        if ranked:
            best = ranked[0][1]
            shortlist = [self.compiled[position] for position, count in ranked if count >= best - 1]
            shortlist += self.unindexed[:CLOSEST_CANDIDATES]
        else:
            shortlist = self.unindexed[:CLOSEST_CANDIDATES] or self.compiled[:CLOSEST_CANDIDATES]
        if len(shortlist) == 1:
            return shortlist[0]

        def similarity(item: CompiledTemplate) -> float:
            return difflib.SequenceMatcher(None, "".join(item.fixed), text, autojunk=False).ratio()

        return max(shortlist[:CLOSEST_CANDIDATES], key=similarity)


def first_difference(item: CompiledTemplate, text: str, max_length: int) -> Difference:
    """Walk the template's fixed text and variables along the message until they disagree."""
    position = 0
    for index, fixed in enumerate(item.fixed):
        if index > 0:
            name = item.names[index - 1]
            empty = position >= len(text) or (bool(fixed) and text.startswith(fixed, position))
            end = position if empty else _variable_end(text, position, fixed, index == len(item.fixed) - 1)
            if end is None:
                return Difference(
                    position,
                    fixed[:30],
                    text[position : position + 30],
                    f"text {fixed[:30]!r} expected after {braced(name)}.",
                )
            if end == position:
                return Difference(
                    position,
                    braced(name),
                    "",
                    f"{braced(name)} is empty; a value has 1 to {max_length} characters.",
                )
            if end - position > max_length:
                return Difference(
                    position,
                    braced(name),
                    text[position:end][:40],
                    f"the value of {braced(name)} has {end - position} characters; the limit is {max_length}.",
                )
            position = end
        common = _common_prefix(fixed, text, position)
        if common < len(fixed):
            at = position + common
            expected, found = fixed[common : common + 30], text[at : at + 30]
            return Difference(
                at, expected, found, f"at character {at + 1} the template has {expected!r}, the message {found!r}."
            )
        position += len(fixed)
    if position < len(text):
        return Difference(
            position,
            "",
            text[position : position + 30],
            f"the message goes on after the template ends (character {position + 1}).",
        )
    return Difference(position, "", "", "the message matches the template's text.")


def _variable_end(text: str, start: int, following: str, is_last: bool) -> int | None:
    """Where a variable's value ends: before the next fixed text, or the longest prefix of it that is found."""
    if is_last and not following:
        return len(text)
    if not following:
        return start + 1 if start < len(text) else start
    for size in dict.fromkeys((len(following), 16, 8, 4, 2, 1)):
        if size > len(following):
            continue
        found = text.find(following[:size], start + 1)
        if found != -1:
            return found
    return None


def _common_prefix(fixed: str, text: str, offset: int) -> int:
    count = 0
    limit = min(len(fixed), len(text) - offset)
    while count < limit and fixed[count] == text[offset + count]:
        count += 1
    return count


# --- Django-facing: per-account compiled cache ---------------------------------------------------------------

RECHECK_SECONDS = 1.0
_local: dict[int, "AccountMatchers"] = {}
_lock = threading.Lock()


@dataclass
class AccountMatchers:
    fingerprint: tuple
    checked_at: float
    by_sender: dict[Any, TemplateMatcher]
    templates: dict[int, Any]


def invalidate_account(account_id: int) -> None:
    """Drop this process's compiled templates of an account (signals call it on every change)."""
    with _lock:
        _local.pop(account_id, None)


def invalidate_on_change(sender, instance, **kwargs) -> None:
    """Signal receiver: the account's compiled templates are stale once a template, block or sender changes.

    Invalidated at once (this transaction sees the change) and again after commit (other processes that rebuilt
    from the old rows in between drop them).
    """
    transaction.on_commit(lambda: invalidate_account(instance.account_id))
    invalidate_account(instance.account_id)


def connect_invalidation() -> None:
    """Connect `invalidate_on_change` to the models it depends on (called from the app's ready())."""
    for model in (Template, BlockedTemplate, Sender):
        for signal in (post_save, post_delete):
            signal.connect(invalidate_on_change, sender=model, dispatch_uid=f"matching.invalidate.{model.__name__}")


def _fingerprint(account) -> tuple:
    """Changes whenever a template, blocked template or sender of the account is added, changed or deleted, so
    that other processes (workers) notice changes within RECHECK_SECONDS."""
    return tuple(
        tuple(model.objects.for_account(account).aggregate(n=Count("pk"), at=Max("updated_at")).values())
        for model in (Template, BlockedTemplate, Sender)
    )


def _build(account) -> tuple[dict[Any, TemplateMatcher], dict[int, Any]]:
    templates = {t.pk: t for t in Template.objects.for_account(account).usable().select_related("sender")}
    grouped: dict[Any, list[tuple[int, str]]] = defaultdict(list)
    for template in templates.values():
        grouped[template.sender_id].append((template.pk, template.body))
    return {sender_id: TemplateMatcher(items) for sender_id, items in grouped.items()}, templates


def account_matchers(account) -> AccountMatchers:
    """The account's compiled templates, rebuilt when this process saw a change or the fingerprint moved."""
    now = time.monotonic()
    entry = _local.get(account.pk)
    if entry is not None and now - entry.checked_at < RECHECK_SECONDS:
        return entry
    fingerprint = _fingerprint(account)
    if entry is not None and entry.fingerprint == fingerprint:
        entry.checked_at = now
        return entry
    by_sender, templates = _build(account)
    entry = AccountMatchers(fingerprint, now, by_sender, templates)
    with _lock:
        _local[account.pk] = entry
    return entry


def match_message(account, sender, text: str) -> MatchResult:
    """The approved, non-blocked template of `sender` that `text` matches, with the variable values, or a reason."""
    if sender is None or not getattr(sender, "is_approved", False):
        return MatchResult(reason="The sender is not approved.")
    entry = account_matchers(account)
    matcher = entry.by_sender.get(sender.pk)
    if matcher is None:
        return MatchResult(reason=f"Sender {sender.name} has no approved templates.")
    result = matcher.match(text)
    result.template = entry.templates.get(result.template) if result.template is not None else None
    result.closest = entry.templates.get(result.closest) if result.closest is not None else None
    if result.closest is not None:
        result.reason = f"No approved template matches. Closest: “{result.closest.name}”; {result.difference.reason}"
    return result
