"""Content-Security-Policy (portal/csp.py): the strict policy on the portal's pages, the API docs' relaxed one,
report-only mode, the report endpoint, and templates that keep to the policy (no inline script or style)."""

import json
import logging
import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import render_to_string

from portal import csp

pytestmark = pytest.mark.django_db

STRICT_HEADER = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; "
    "report-uri /csp-report/"
)


def directives(response, header=csp.ENFORCING) -> dict[str, str]:
    return dict(part.split(" ", 1) for part in response[header].split("; "))


def test_portal_pages_get_the_strict_policy(client, client_for, admin_user):
    assert client.get("/accounts/login/")[csp.ENFORCING] == STRICT_HEADER
    page = client_for(admin_user)
    for path, status in [("/", 200), ("/contacts/", 200), ("/campaigns/new/", 200), ("/no-such-page/", 404)]:
        response = page.get(path)
        assert (response.status_code, response[csp.ENFORCING]) == (status, STRICT_HEADER), path


def test_the_api_docs_get_inline_scripts_and_styles_and_a_blob_worker(client_for, admin_user):
    page = client_for(admin_user)
    for path in ["/api/v2/docs/", "/api/v2/redoc/"]:
        policy = directives(page.get(path))
        assert policy["script-src"] == "'self' 'unsafe-inline'" and policy["style-src"] == "'self' 'unsafe-inline'"
        assert policy["worker-src"] == "'self' blob:"
        assert policy["frame-ancestors"] == "'none'" and policy["connect-src"] == "'self'"


def test_other_api_responses_allow_inline_styles_only(api, client_for, admin_user):
    browsable = directives(client_for(admin_user).get("/api/v2/auth/me", HTTP_ACCEPT="text/html"))
    assert browsable["style-src"] == "'self' 'unsafe-inline'" and browsable["script-src"] == "'self'"
    assert "worker-src" not in directives(api().get("/api/v2/auth/me"))


def test_report_only_mode_sends_the_same_policy_without_enforcing_it(client, settings):
    settings.CSP_REPORT_ONLY = True
    response = client.get("/accounts/login/")
    assert response[csp.REPORT_ONLY] == STRICT_HEADER and csp.ENFORCING not in response


def test_violation_reports_are_logged(client, caplog):
    report = {
        "csp-report": {
            "document-uri": "https://portal.example/contacts/",
            "effective-directive": "script-src-elem",
            "blocked-uri": "inline",
        }
    }
    with caplog.at_level(logging.WARNING, logger="portal.csp"):
        response = client.post("/csp-report/", json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    assert "CSP violation: script-src-elem blocked inline on https://portal.example/contacts/" in caplog.text


def test_broken_or_oversized_reports_are_dropped_quietly(client, caplog):
    with caplog.at_level(logging.WARNING, logger="portal.csp"):
        assert client.post("/csp-report/", "not json", content_type="application/csp-report").status_code == 204
        assert client.post("/csp-report/", "[1]", content_type="application/csp-report").status_code == 204
        big = json.dumps({"csp-report": {"blocked-uri": "x" * csp.MAX_REPORT_BYTES}})
        assert client.post("/csp-report/", big, content_type="application/csp-report").status_code == 204
    assert "CSP violation" not in caplog.text
    assert client.get("/csp-report/").status_code == 405


INLINE = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "style element": re.compile(r"<style\b", re.I),
    "hx-on (eval)": re.compile(r"\shx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_template_carries_inline_script_or_style():
    found = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = template.read_text()
        found += [f"{template.name}: {what}" for what, pattern in INLINE.items() if pattern.search(text)]
    assert found == []


def test_bar_heights_are_classes_in_steps_of_five_percent():
    html = render_to_string(
        "campaigns/_verify_charts.html",
        {
            "daily_total": 3,
            "daily": [{"day": date(2026, 1, 2), "sent": 2, "verified": 1, "sent_height": 100, "verified_height": 37}],
            "histogram_total": 1,
            "histogram": [{"label": "<1 min", "count": 1, "height": 3}],
        },
    )
    assert re.findall(r'class="hour-bar[^"]*"', html) == [
        'class="hour-bar bar-20"',
        'class="hour-bar verify-bar-verified bar-7"',
        'class="hour-bar bar-1"',
    ]
    stylesheet = Path(settings.BASE_DIR, "static/css/app.css").read_text()
    assert all(f".bar-{step} {{ --bar: {step * 5}%; }}" in stylesheet for step in range(21))
