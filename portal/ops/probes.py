"""What the apps contribute to operations: backlogs that /readyz bounds and gauges that /metrics reports.

Each module of PROBE_MODULES (the portal's own, then `<app>/ops.py`, the way `<app>/dashboard.py` adds dashboard
cards: the portal imports no app) may offer `BACKLOGS`, a list of `Backlog`, and `GAUGES`, a list of functions
that take the time of the scrape and return a `Gauge`. They count platform-wide, across accounts, on purpose.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import import_module
from types import ModuleType

from django.db.models import Count, QuerySet

PROBE_MODULES = ("portal.ops.portal_probes", "contacts.ops", "campaigns.ops")


@dataclass(frozen=True)
class Gauge:
    """One metric family of the scrape: a sample per tuple of label values."""

    name: str
    documentation: str
    labels: tuple[str, ...] = ()
    values: dict[tuple[str, ...], float] = field(default_factory=dict)


@dataclass(frozen=True)
class Backlog:
    """Rows waiting for a worker. `count(limit, now)` counts at most `limit` of them (a LIMIT'ed query, fast
    however long the backlog); readiness fails above the value of the setting named `setting`."""

    check: str
    setting: str
    count: Callable[[int, datetime], int]


GaugeProbe = Callable[[datetime], Gauge]


def _modules() -> list[ModuleType]:
    return [import_module(name) for name in PROBE_MODULES]


def backlogs() -> list[Backlog]:
    return [backlog for module in _modules() for backlog in getattr(module, "BACKLOGS", [])]


def gauge_probes() -> list[GaugeProbe]:
    return [probe for module in _modules() for probe in getattr(module, "GAUGES", [])]


def counts_by(queryset: QuerySet, field_name: str, known: Iterable[str]) -> dict[tuple[str], float]:
    """Rows per value of `field_name`, every known value present (0 when none), so a series never vanishes."""
    counts = dict(queryset.order_by().values_list(field_name).annotate(n=Count("pk")))
    return {(value,): counts.get(value, 0) for value in [*known, *sorted(set(counts) - set(known))]}
