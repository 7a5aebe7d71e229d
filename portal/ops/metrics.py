"""Prometheus metrics: request latency (RequestMetricsMiddleware), requests in flight, and the gauges computed when
scraped (the probes of portal.ops.probes: queue lengths, outbox, webhooks, imports, SMPP binds, balances).

Under several server processes (gunicorn workers) set PROMETHEUS_MULTIPROC_DIR to an empty directory, wiped before
the server starts: each process writes its request metrics to files there, a scrape merges them
(MultiProcessCollector) and the scrape-time gauges are computed once, by the process answering the scrape. The
server's child_exit hook calls `mark_process_dead(pid)`. Without it, each process answers with its own requests.
"""

import logging
import os
import time
from collections.abc import Iterator

from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Gauge, Histogram, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from portal.ops import probes

logger = logging.getLogger("portal.ops.metrics")

MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))  # read at import, as prometheus_client does
METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
UNMATCHED = "unmatched"  # no URL pattern matched (404s, redirects before routing)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUEST_DURATION = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer a request, by method, URL pattern name and status class.",
    ["method", "route", "status"],
    buckets=BUCKETS,
)
REQUESTS_IN_FLIGHT = Gauge(
    "portal_http_requests_in_flight", "Requests being answered now.", multiprocess_mode="livesum"
)


def method_label(method: str) -> str:
    return method if method in METHODS else "other"


def route_label(request) -> str:
    """The name of the URL pattern that matched (`contacts-api:contact-detail`), never the path: a bounded
    label."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else UNMATCHED


class RequestMetricsMiddleware:
    """Times every request (first in MIDDLEWARE, so it counts the other middleware's answers too)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        REQUESTS_IN_FLIGHT.inc()
        try:
            response = self.get_response(request)
        finally:
            REQUESTS_IN_FLIGHT.dec()
        labels = (method_label(request.method), route_label(request), f"{response.status_code // 100}xx")
        REQUEST_DURATION.labels(*labels).observe(time.perf_counter() - started)
        return response


class ScrapeTimeCollector:
    """The probes' gauges, computed at each scrape. A probe that fails is logged and reported by
    `portal_probe_success 0`; the rest of the scrape still answers."""

    def describe(self) -> list[Metric]:
        return []  # the names come from the probes: nothing is computed when the collector is registered

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        success = GaugeMetricFamily("portal_probe_success", "1 when the probe answered this scrape.", labels=["probe"])
        duration = GaugeMetricFamily(
            "portal_probe_duration_seconds", "Time the probe took this scrape.", labels=["probe"]
        )
        for probe in probes.gauge_probes():
            name = f"{probe.__module__}.{probe.__name__}"
            started = time.perf_counter()
            try:
                gauge = probe(now)
            except Exception:
                logger.exception("metrics probe %s failed", name)
                success.add_metric([name], 0)
                continue
            finally:
                duration.add_metric([name], time.perf_counter() - started)
            success.add_metric([name], 1)
            family = GaugeMetricFamily(gauge.name, gauge.documentation, labels=list(gauge.labels))
            for label_values, value in gauge.values.items():
                family.add_metric(list(label_values), value)
            yield family
        yield success
        yield duration


SCRAPE_TIME_COLLECTOR = ScrapeTimeCollector()
if not MULTIPROCESS:
    REGISTRY.register(SCRAPE_TIME_COLLECTOR)


def scrape_registry() -> CollectorRegistry:
    """One process: the default registry. Several: a registry per scrape, as prometheus_client asks, merging the
    processes' files, with the scrape-time gauges once."""
    if not MULTIPROCESS:
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(SCRAPE_TIME_COLLECTOR)
    return registry


def scrape(accept: str = "") -> tuple[bytes, str]:
    """The exposition and its content type: Prometheus text, or OpenMetrics when the Accept header asks."""
    encoder, content_type = choose_encoder(accept)
    return encoder(scrape_registry()), content_type


def mark_process_dead(pid: int) -> None:
    """For the server's child_exit hook: a stopped worker's in-flight gauge is dropped (its counts stay)."""
    if MULTIPROCESS:
        multiprocess.mark_process_dead(pid)
