"""Shared fixtures: accounts, one user per role, API clients with real tokens, service guards."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from portal.accounts import add_member, create_account
from portal.roles import Role
from portal.tokens import issue_token
from tests.support.services import require_postgres, require_redis


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _service_markers(request):
    """`@pytest.mark.postgres` / `@pytest.mark.redis`: skip without them, fail when the run requires them."""
    if request.node.get_closest_marker("postgres"):
        require_postgres()
    if request.node.get_closest_marker("redis"):
        require_redis()


def make_user(email: str, *, staff: bool = False):
    return get_user_model().objects.create_user(username=email, email=email, password="correct-horse-9", is_staff=staff)


@pytest.fixture
def account(db):
    return create_account("Acme Retail", default_country="IN", time_zone="Asia/Kolkata", brand_names=["Acme"])


@pytest.fixture
def other_account(db):
    return create_account("Other Corp", default_country="GB", time_zone="Europe/London")


def _member(account, email, role):
    user = make_user(email)
    add_member(account, user, role)
    return user


@pytest.fixture
def admin_user(account):
    return _member(account, "admin@acme.example", Role.ADMIN)


@pytest.fixture
def marketer(account):
    return _member(account, "marketer@acme.example", Role.MARKETER)


@pytest.fixture
def compliance_user(account):
    return _member(account, "compliance@acme.example", Role.COMPLIANCE)


@pytest.fixture
def viewer(account):
    return _member(account, "viewer@acme.example", Role.VIEWER)


@pytest.fixture
def outsider(other_account):
    return _member(other_account, "admin@other.example", Role.ADMIN)


@pytest.fixture
def staff_user(db):
    return make_user("staff@platform.example", staff=True)


ROLE_EMAILS = {
    Role.ADMIN: "api-admin@acme.example",
    Role.MARKETER: "api-marketer@acme.example",
    Role.COMPLIANCE: "api-compliance@acme.example",
    Role.VIEWER: "api-viewer@acme.example",
}


@pytest.fixture
def api(account):
    """`api(role="admin", account=None, read_only=False, user=None)` → an APIClient with a real Bearer token."""

    def build(role: str = Role.ADMIN, account_obj=None, read_only: bool = False, user=None):
        target = account_obj or account
        if user is None:
            email = ROLE_EMAILS[role].replace("acme", target.slug)
            user = get_user_model().objects.filter(email=email).first() or make_user(email)
            add_member(target, user, role)
        issued = issue_token(target, user, f"test {role}", read_only=read_only)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.raw}")
        client.token = issued.token
        client.raw_token = issued.raw
        client.user = user
        client.account = target
        return client

    return build


@pytest.fixture
def client_for(client):
    """`client_for(user)` → the Django test client logged in as that user."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def live_http_receiver():
    """A real HTTP server on 127.0.0.1 that records requests (tests/support/http_receiver.py)."""
    from tests.support.http_receiver import HttpReceiver

    receiver = HttpReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def postgres(db):
    require_postgres()


@pytest.fixture
def redis_broker():
    return require_redis()


@pytest.fixture
def celery_worker(transactional_db, redis_broker):
    """A real Celery worker process on Redis against the PostgreSQL test database."""
    require_postgres()
    from tests.support.worker import WorkerProcess

    worker = WorkerProcess(redis_broker).start()
    yield worker
    worker.stop()
