"""Settings of the SMPP gateway with their defaults: a Django setting of the same name wins, then an environment
variable, then the default below."""

from django.conf import settings

from portal.env import env_int, env_str

DEFAULTS: dict[str, int | str] = {
    # Where customers connect (shown on the SMPP page): the plain port, the TLS port (0: no TLS listener) and the
    # public host name (empty: the host of the page's own address).
    "SMPP_PORT": 2775,
    "SMPP_TLS_PORT": 0,
    "SMPP_PUBLIC_HOST": "",
    # The server process (`manage.py smpp_server`): the address it listens on (0.0.0.0 behind a load balancer),
    # the TLS certificate and key (PEM files; the TLS port needs both), the idle time after which a session that
    # sent nothing (not even enquire_link) is unbound, and the threads that talk to the database.
    "SMPP_HOST": "127.0.0.1",
    "SMPP_TLS_CERT": "",
    "SMPP_TLS_KEY": "",
    "SMPP_IDLE_SECONDS": 300,
    "SMPP_DB_THREADS": 4,
    # A receipt or inbound message waits this long for a bound session of its system_id, then expires.
    "SMPP_RECEIPT_TTL_SECONDS": 72 * 3600,
    # Receipts delivered or expired are kept this many days (the page, the admin), then deleted.
    "SMPP_RECEIPT_KEEP_DAYS": 7,
    # A session whose server has not touched it for this long belongs to a dead process and is removed.
    "SMPP_SESSION_STALE_SECONDS": 120,
    # Refused binds are kept this many days (the page; slowing repeated failures).
    "SMPP_BIND_FAILURE_KEEP_DAYS": 30,
    # Platform maximums of what an account admin may give a credential.
    "SMPP_MAX_BIND_LIMIT": 10,
    "SMPP_MAX_THROUGHPUT": 1000,
    "SMPP_MAX_WINDOW": 100,
}


def setting(name: str):
    if hasattr(settings, name):
        return getattr(settings, name)
    default = DEFAULTS[name]
    return env_str(name, default) if isinstance(default, str) else env_int(name, default)
