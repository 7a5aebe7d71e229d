"""Probes for load balancers and Prometheus: /healthz (liveness), /readyz (readiness), /metrics."""

from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from portal.ops import access, health, metrics


@never_cache
@require_safe
def healthz(request):
    """Liveness: the process answers. Nothing else is asked (no database, no broker)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_safe
def readyz(request):
    """Readiness: 200 when every check passes, 503 otherwise; the JSON tells each check's answer."""
    report = health.readiness()
    return JsonResponse(report.as_json(), status=200 if report.ready else 503)


@never_cache
@require_safe
def metrics_view(request):
    if not access.may_scrape(request):
        raise Http404("No such page.")
    body, content_type = metrics.scrape(request.headers.get("Accept", ""))
    return HttpResponse(body, content_type=content_type)
