"""Benchmark: validate 100,000 template bodies; match 100,000 messages against 10,000 approved templates.

Runs against a throwaway SQLite database (the templates go through the real `match_message`, with its compiled
per-account cache). Prints bodies/s and p50/p99 match latency. Target: p99 under 1 ms with 10,000 templates.
"""

import os
import random
import statistics
import string
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
WORK_DIR = tempfile.mkdtemp(prefix="bench-templates-")
os.environ["DATABASE_URL"] = f"sqlite:///{WORK_DIR}/bench.sqlite3"
os.environ.setdefault("VAR_DIR", WORK_DIR)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

TEMPLATES, BODIES, MESSAGES, MISSES = 10_000, 100_000, 100_000, 1_000
rng = random.Random(4)


def word() -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))


VOCABULARY = [word() for _ in range(3_000)]


def body() -> str:
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(8, 16))]
    for n in range(rng.randint(1, 3)):
        words.insert(rng.randint(0, len(words)), f"{{{{var{n}}}}}")
    words.append("-Acme")
    return " ".join(words).capitalize()


def fill(template_body: str) -> str:
    text = template_body
    for n in range(3):
        value = "".join(rng.choice(string.ascii_letters + string.digits + " ") for _ in range(rng.randint(1, 20)))
        text = text.replace(f"{{{{var{n}}}}}", value.strip() or "x")
    return text


def bench_validation(bodies: list[str]) -> float:
    from campaigns.template_rules import AccountFacts, validate_template

    facts = AccountFacts(entity_type="enterprise", brand_names=("Acme",))
    started = time.perf_counter()
    for index in range(BODIES):
        validate_template(bodies[index % len(bodies)], template_type="SI", is_english=True, facts=facts)
    return BODIES / (time.perf_counter() - started)


def load_templates(bodies: list[str]):
    from campaigns.models import Sender, SenderStatus, Template, TemplateStatus
    from portal.accounts import create_account

    account = create_account("Bench", brand_names=["Acme"])
    sender = Sender.objects.create(
        account=account, name="ACMEIN", country_code="IN", entity_id="1201159876543210987", status=SenderStatus.APPROVED
    )
    Template.objects.bulk_create(
        Template(
            account=account,
            sender=sender,
            name=f"Template {n}",
            alias=f"t-{n}",
            body=text,
            template_type="SI",
            status=TemplateStatus.APPROVED,
        )
        for n, text in enumerate(bodies)
    )
    return account, sender


def bench_matching(account, sender, bodies: list[str]) -> tuple[list[float], int, float]:
    from campaigns.matching import account_matchers, invalidate_account, match_message

    invalidate_account(account.pk)
    started = time.perf_counter()
    account_matchers(account)
    compile_seconds = time.perf_counter() - started
    messages = [fill(rng.choice(bodies)) for _ in range(MESSAGES)]
    latencies, matched = [], 0
    for text in messages:
        started = time.perf_counter()
        result = match_message(account, sender, text)
        latencies.append(time.perf_counter() - started)
        matched += result.matched
    return latencies, matched, compile_seconds


def bench_misses(account, sender, bodies: list[str]) -> list[float]:
    """Messages whose fixed text was changed: the slow path that names the closest template."""
    from campaigns.matching import match_message

    latencies = []
    for _ in range(MISSES):
        words = rng.choice(bodies).split(" ")
        fixed = [n for n, w in enumerate(words) if "{" not in w]
        words[rng.choice(fixed)] += "q"
        text = fill(" ".join(words))
        started = time.perf_counter()
        result = match_message(account, sender, text)
        latencies.append(time.perf_counter() - started)
        assert not result.matched and result.closest is not None
    return latencies


def percentiles(latencies: list[float]) -> tuple[float, float]:
    quantiles = statistics.quantiles(latencies, n=100)
    return quantiles[49] * 1000, quantiles[98] * 1000


def main() -> None:
    call_command("migrate", verbosity=0)
    bodies = [body() for _ in range(TEMPLATES)]
    rate = bench_validation(bodies)
    print(f"validate: {BODIES:,} bodies, {rate:,.0f} bodies/s")
    account, sender = load_templates(bodies)
    latencies, matched, compile_seconds = bench_matching(account, sender, bodies)
    p50, p99 = percentiles(latencies)
    print(f"compile: {TEMPLATES:,} templates in {compile_seconds * 1000:,.0f} ms")
    print(
        f"match: {MESSAGES:,} messages, {matched:,} matched, {MESSAGES / sum(latencies):,.0f} messages/s, "
        f"p50 {p50:.3f} ms, p99 {p99:.3f} ms (target p99 < 1 ms: {'met' if p99 < 1 else 'NOT met'})"
    )
    miss_p50, miss_p99 = percentiles(bench_misses(account, sender, bodies))
    print(f"no match (closest template, first difference): p50 {miss_p50:.2f} ms, p99 {miss_p99:.2f} ms")


if __name__ == "__main__":
    main()
