"""Forked worker processes (Celery's prefork pool, gunicorn workers) must not use the database connections they
inherit: the parent and the child would talk over the same socket. Django's PostgreSQL pool lives in a class-level
dict, so a child forked after its parent opened the pool would take the parent's connections from it.

`forget_inherited_connections()` drops them in the child without closing them (closing sends a Terminate message
over the shared socket and would break the parent's connection): the objects are kept referenced for the life of
the child, which opens its own connections and pool on first use.
"""

from django.db import connections
from django.db.backends.postgresql.base import DatabaseWrapper as PostgresWrapper

_inherited: list = []


def forget_inherited_connections() -> None:
    for connection in connections.all(initialized_only=True):
        if connection.connection is not None:
            _inherited.append(connection.connection)
            connection.connection = None
    pools = PostgresWrapper._connection_pools
    _inherited.extend(pools.values())
    pools.clear()
