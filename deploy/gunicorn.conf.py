"""gunicorn settings for `bin/serve web` (all from the environment, like the portal's own settings).

Threaded workers (gthread): a request waiting on the database or a webhook test does not hold a whole process;
each process keeps at most DB_POOL PostgreSQL connections. SIGTERM drains: the workers finish the requests they
hold for up to WEB_GRACEFUL_TIMEOUT seconds, then stop.
"""

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("WEB_KEEPALIVE", "5"))
# a worker is replaced after this many requests (bounded memory growth), at staggered times
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "5000"))
max_requests_jitter = max_requests // 10
# the portal logs one access line per request itself (portal.request_context, with the request id)
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
if os.environ.get("LOG_FORMAT") == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "portal.logging.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {"gunicorn.error": {"handlers": ["console"], "level": loglevel.upper(), "propagate": False}},
    }
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
proc_name = "cpaas-web"
# gunicorn 27's control socket lives in $HOME/.gunicorn, shared by every gunicorn of the user: not used here
control_socket_disable = True

METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def on_starting(server):
    """Metrics of processes of an earlier run are stale: the folder starts empty."""
    if METRICS_DIR:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
        Path(METRICS_DIR).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    """A worker that exits no longer counts in the live gauges of /metrics."""
    if METRICS_DIR:
        multiprocess.mark_process_dead(worker.pid)
