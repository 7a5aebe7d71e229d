"""DATABASE_URL with DB_POOL / DB_POOL_TIMEOUT / DB_CONN_MAX_AGE: what each process may open."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import database_from_url

URL = "postgres://app:s%40cret@db.internal:5433/cpaas?sslmode=require"


def test_a_pool_bounds_the_connections_and_keeps_none_per_thread():
    database = database_from_url(URL, pool=8, pool_timeout=3)
    assert database["CONN_MAX_AGE"] == 0  # Django requires it with a pool: the pool keeps the connections
    assert database["OPTIONS"] == {"sslmode": "require", "pool": {"min_size": 1, "max_size": 8, "timeout": 3}}
    assert [database[key] for key in ("NAME", "USER", "PASSWORD", "PORT")] == ["cpaas", "app", "s@cret", "5433"]


def test_without_a_pool_connections_close_after_each_request_unless_kept():
    assert database_from_url(URL, pool=0)["CONN_MAX_AGE"] == 0
    kept = database_from_url(URL, pool=0, conn_max_age=60)
    assert kept["CONN_MAX_AGE"] == 60 and "pool" not in kept["OPTIONS"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pool": -1}, "DB_POOL"),
        ({"pool": 4, "pool_timeout": 0}, "DB_POOL_TIMEOUT"),
        ({"pool": 4, "conn_max_age": 60}, "DB_CONN_MAX_AGE must be 0 with DB_POOL"),
        ({"pool": 0, "conn_max_age": -1}, "DB_CONN_MAX_AGE"),
    ],
)
def test_bad_values_stop_start_up_with_the_setting_named(options, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        database_from_url(URL, **options)


def test_sqlite_has_no_pool():
    assert database_from_url("sqlite:///var/x.sqlite3", pool=8) == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "var/x.sqlite3",
    }
