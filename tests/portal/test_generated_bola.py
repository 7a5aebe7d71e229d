"""Generated BOLA test: every schema path with an id, every method, called by account A with account B's ids.

The paths come from the OpenAPI schema, the view behind each from resolving it, B's objects from that view's own
queryset run as B (parents of nested paths through their own route), so a new route is covered without editing
this file. Account-owned objects must be a 404 (the error envelope), platform-staff routes (connectors, routes: no
account) a 403 or 404 for A's non-staff admin; a path that is neither fails until it is classified or listed in
SKIPPED with its reason. B's rows, and every platform row, are unchanged afterwards.
"""

import pytest

from portal.management.commands.load_demo import DEMO_APPS, demo_loader
from tests.support.api_objects import admin_of, call, make
from tests.support.api_surface import (
    ACCOUNT_OWNED,
    PLATFORM_STAFF,
    WRITE_METHODS,
    bind,
    operations,
    parameters,
    route_of,
    schema_paths,
)
from tests.support.rows import differences, snapshot

pytestmark = pytest.mark.django_db

EXPECTED = {
    ACCOUNT_OWNED: {404},  # another account's object does not exist for the caller
    PLATFORM_STAFF: {403, 404},  # connectors and routes belong to no account: only platform staff reach them
}
SKIPPED: dict[str, str] = {}  # path -> why its ids name no account-owned or platform-staff object


@pytest.fixture
def tenants(account, other_account, settings):
    """A: an admin with a token and nothing else. B: the demo data (`manage.py load_demo`'s loaders)."""
    settings.API_READ_RATE_PER_MINUTE = settings.API_WRITE_RATE_PER_SECOND = 1_000_000
    settings.WEBHOOK_ALLOWED_CIDRS = ["127.0.0.0/8"]
    a, b = admin_of(account, "bola-a@acme.example"), admin_of(other_account, "bola-b@other.example")
    for app in DEMO_APPS:
        loader = demo_loader(app)
        if loader is not None:
            loader(b.account, b.user)
    return a, b


def bind_all(actor, targets):
    """B's objects for every (path, method), making rows through the API where B has none (an identifier, a
    clean-up); repeated until a pass makes nothing, since making one (a clean-up) can empty another list."""
    for _ in range(4):
        made = False
        bounds = {}
        for path, method in targets:
            bound = bind(path, method, account=actor.account, user=actor.user)
            if bound.missing is not None:
                make(actor, bound.missing)
                made = True
                bound = bind(path, method, account=actor.account, user=actor.user)
            bounds[path, method] = bound
        if not made:
            return bounds
    missing = {key: bound.missing.model._meta.label for key, bound in bounds.items() if bound.missing}
    raise AssertionError(f"Could not make rows for account B: {missing}")


def is_error_envelope(response, status: int) -> bool:
    try:
        body = response.json()
    except ValueError:
        return False
    return body.get("status") == "error" and body.get("code") == status and bool(body.get("message"))


def test_every_path_with_an_id_refuses_another_accounts_objects(tenants):
    a, b = tenants
    paths = [path for path in schema_paths() if parameters(path)]
    assert not set(SKIPPED) - set(paths), "SKIPPED lists paths the schema no longer has"
    unclassified = [path for path in paths if path not in SKIPPED and route_of(path).kind is None]
    assert not unclassified, f"Classify (account-owned, platform-staff) or list in SKIPPED: {unclassified}"

    targets = [(path, method) for path, method in operations() if path in paths and path not in SKIPPED]
    bounds = bind_all(b, targets)
    plan = [(path, method, bounds[path, method]) for path, method in targets]
    for path, method, bound in plan:  # the ids are real: B itself reads its own (platform rows only staff read)
        if method == "GET" and route_of(path).kind == ACCOUNT_OWNED:
            assert b.client.get(bound.url).status_code == 200, f"B cannot read its own {bound.url} ({path})"

    before = snapshot([b.account])
    failures = []
    for path, method, bound in plan:
        response = call(a, method, bound.url, {} if method.lower() in WRITE_METHODS else None)
        expected = EXPECTED[route_of(path).kind]
        if response.status_code not in expected or not is_error_envelope(response, response.status_code):
            failures.append(f"{method} {path} ({bound.url}): {response.status_code} {response.content[:200]!r}")
    assert not failures, "\n".join(failures)
    assert not differences(before, snapshot([b.account])), "A's calls changed B's (or platform) rows"
    for bound in (bound for _, _, bound in plan):
        for obj in bound.objects.values():
            assert type(obj).objects.filter(pk=obj.pk).exists(), f"{obj!r} of B was deleted"

    kinds = [route_of(path).kind for path, _, _ in plan]
    print(
        f"\nBOLA: {len(paths)} paths with ids, {len(plan)} operations "
        f"({kinds.count(ACCOUNT_OWNED)} account-owned -> 404, {kinds.count(PLATFORM_STAFF)} platform-staff -> 403), "
        f"{len(SKIPPED)} skipped"
    )
