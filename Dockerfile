# syntax=docker/dockerfile:1
# The portal's one image for every process of bin/serve: `web` (the default), `worker QUEUES`, `beat`, `smpp`,
# `gateway`, `migrate`, `check`. Configured by the environment alone (deploy/env.example); compose.yaml runs it.
#
#   docker build -t cpaas-portal:0.1.0 .
#
# The builder stage installs the dependencies into a virtualenv and collects the static files; the final stage,
# from the same base (the virtualenv's interpreter path must be the same), gets the virtualenv and the code only:
# no compiler, no pip cache, no apt lists, and it runs as an unprivileged user.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# a compiler for any dependency without a wheel for this platform (none today); it stays in this stage
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
WORKDIR /opt/cpaas
# the dependencies alone, from pyproject.toml: this layer is rebuilt when they change, not when the code does
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt
COPY . ./
# Static files under hashed names (whitenoise serves them with a year's cache lifetime), collected once here so
# the web processes start without it (SERVE_COLLECTSTATIC=0). Importing the settings needs a SECRET_KEY and a
# broker URL: throwaway values that exist in this command only (no real secret is ever baked into the image; the
# broker is not contacted, nor is the database).
RUN SECRET_KEY=collectstatic-at-build-time-only-not-a-secret CELERY_BROKER_URL=redis://build.invalid:6379/0 \
        STATIC_MANIFEST=1 VAR_DIR=/var/lib/cpaas /opt/venv/bin/python manage.py collectstatic --noinput -v 0 \
    && /opt/venv/bin/python -m compileall -q portal contacts campaigns

FROM ${PYTHON_IMAGE} AS runtime
ARG APP_UID=10001
ARG APP_GID=10001
ENV PATH=/opt/venv/bin:$PATH \
    PYTHON=/opt/venv/bin/python \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    VAR_DIR=/var/lib/cpaas \
    STATIC_MANIFEST=1 \
    SERVE_COLLECTSTATIC=0 \
    PORT=8000
RUN groupadd --system --gid "${APP_GID}" cpaas \
    && useradd --system --uid "${APP_UID}" --gid cpaas --home-dir /opt/cpaas --no-create-home \
        --shell /usr/sbin/nologin cpaas \
    && install -d -o cpaas -g cpaas -m 0750 /var/lib/cpaas /var/lib/cpaas/media
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /opt/cpaas /opt/cpaas
COPY --from=builder /var/lib/cpaas/staticfiles /var/lib/cpaas/staticfiles
WORKDIR /opt/cpaas
USER cpaas:cpaas
# uploads (imports) and exports: shared by the web processes and the `imports` worker; the static files stay in
# the image (a volume over them would keep an older release's files)
VOLUME ["/var/lib/cpaas/media"]
# the web port, and the SMPP gateway's plain port (SMPP_PORT)
EXPOSE 8000 2775
# liveness only (/readyz is for the load balancer); the Host header is one ALLOWED_HOSTS accepts
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; h = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.'); r.urlopen(r.Request('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8000'), headers={'Host': h if h not in ('', '*') else 'localhost'}), timeout=4)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/opt/cpaas/bin/serve"]
CMD ["web"]
