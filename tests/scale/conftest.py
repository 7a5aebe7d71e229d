"""Fixtures of the scale-out test: the account and its data, the test hosts with the production process set."""

import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from tests.scale.cluster import Cluster
from tests.scale.hosts import HostNetwork
from tests.scale.world import Sizes, World, make_world
from tests.support.http_receiver import HttpReceiver


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "scale: the scale-out test (tests/scale): the production processes on test hosts, one host killed; "
        "needs PostgreSQL and Redis",
    )


@pytest.fixture
def sizes() -> Sizes:
    return Sizes()


@pytest.fixture
def redis_databases():
    """The run's broker and cache databases start and end empty: a killed host's unacknowledged tasks must not
    reach a later run's database (ids repeat from one test database to the next)."""
    clients = [redis.Redis.from_url(url) for url in {django_settings.CELERY_BROKER_URL, django_settings.CACHE_URL}]
    for client in clients:
        client.flushdb()
    yield
    for client in clients:
        client.flushdb()
        client.close()


@pytest.fixture
def world(transactional_db, settings, sizes) -> World:
    return make_world(sizes, settings)


def _service_targets() -> list[str]:
    params = connection.settings_dict
    targets = [f"{params.get('HOST') or '127.0.0.1'}:{params.get('PORT') or 5432}"]
    for url in (django_settings.CELERY_BROKER_URL, django_settings.CACHE_URL):
        parts = urlparse(url)
        targets.append(f"{parts.hostname}:{parts.port or 6379}")
    return sorted(set(targets))


@pytest.fixture
def scale_network(sizes):
    """The test hosts' network (namespaces, or loopback where they cannot be made), removed afterwards."""
    network = HostNetwork.create(sizes.hosts, _service_targets())
    try:
        yield network
    finally:
        network.close()


@pytest.fixture
def scale_receiver(scale_network):
    """The customer's webhook endpoint: a real HTTP server where the hosts reach this machine."""
    receiver = HttpReceiver(host=scale_network.service_address).start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """The call's outcome on the test item, so the fixture below keeps the hosts' logs of a failed run."""
    report = yield
    if report.when == "call":
        item.scale_call_failed = report.failed
    return report


@pytest.fixture
def scale_work_dir(request):
    """VAR_DIRs and logs of the hosts: removed after a passing run, kept (its path printed) after a failure."""
    work_dir = Path(tempfile.mkdtemp(prefix=f"cpaas-scale-{os.getpid()}-"))
    yield work_dir
    if getattr(request.node, "scale_call_failed", True):
        print(f"\nscale test: the hosts' logs are kept in {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)


@pytest.fixture
def scale_cluster(world, sizes, redis_databases, scale_network, scale_receiver, scale_work_dir):
    """The test hosts with the production process set running; all of it stopped afterwards."""
    cluster = Cluster(
        network=scale_network,
        work_dir=scale_work_dir,
        broker_url=django_settings.CELERY_BROKER_URL,
        cache_url=django_settings.CACHE_URL,
        api_token_pepper=world.pepper,
        receiver=(scale_receiver.host, scale_receiver.port),
    )
    cluster.build(sizes.hosts)
    try:
        cluster.start_all()
        yield cluster
    finally:
        cluster.stop_all()
