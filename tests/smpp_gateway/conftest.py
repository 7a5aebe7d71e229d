"""The gateway's database threads share SQLite's in-memory test database with the test thread; in its shared-cache
mode a reader's table lock makes a concurrent writer fail at once ("database table is locked", no busy wait).
Reads without table locks (`read_uncommitted`) let the threads interleave as they do on PostgreSQL, and one database
thread per gateway keeps its own writers from meeting (a file database waits for its lock instead: `timeout`)."""

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from campaigns.smpp_gateway.credentials import issue_credential
from tests.support.smpp_gateway import running_gateway


def _unlocked_reads(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")


@pytest.fixture(autouse=True)
def _sqlite_shared_cache_reads(django_db_blocker, settings):
    if connection.vendor == "sqlite":
        settings.SMPP_DB_THREADS = 1
    connection_created.connect(_unlocked_reads, dispatch_uid="tests.smpp_gateway.unlocked_reads")
    with django_db_blocker.unblock():
        if connection.vendor == "sqlite" and connection.connection is not None:
            _unlocked_reads(None, connection)
    yield
    connection_created.disconnect(dispatch_uid="tests.smpp_gateway.unlocked_reads")


@pytest.fixture
def issued(account):
    """The account's credential `acme`, with its password."""
    return issue_credential(account, system_id="acme", label="ERP")


@pytest.fixture
def gateway():
    with running_gateway() as running:
        yield running
