"""Operational probes of the contacts app (collected by portal.ops.probes): import jobs by state for /metrics."""

from datetime import datetime

from contacts.models import Import, ImportState
from portal.ops.probes import Gauge, counts_by


def import_jobs_gauge(now: datetime) -> Gauge:
    return Gauge(
        "portal_import_jobs",
        "Contact import jobs by state.",
        ("state",),
        counts_by(Import.objects.all(), "state", ImportState.values),
    )


GAUGES = [import_jobs_gauge]
