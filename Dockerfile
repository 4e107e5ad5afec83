# careers as one image; the role is the argument:
#   docker run … IMAGE [serve | worker | check | db upgrade | outbox … | demo]
# Build it the usual way (`docker build -t personio-careers .`: base image from the public
# registry, packages from PyPI), or with scripts/build-image, which builds the wheels on the
# host first (for networks where a build step cannot reach PyPI). docs/deployment.md,
# "Container image", says how to run it.

# Any Debian-based image with Python >= 3.11 and its venv module: CI uses a local base made
# by scripts/debian-base (Debian's own python3).
ARG BASE=python:3.12-slim-bookworm

# ---- build: a virtual environment in /opt/careers, installed only from the lock files ----
FROM ${BASE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
# wheelhouse/ holds only a README unless scripts/build-image filled it with the locked wheels.
COPY wheelhouse/ /wheelhouse/
COPY requirements.lock requirements-build.lock ./
# Every package comes with a hash from the lock files (pip refuses any other file), from the
# wheelhouse when it holds wheels, otherwise from PyPI. The build tools (pip, hatchling, the
# SBOM writer) live in a venv of their own that the runtime image never sees; their pip
# installs into /opt/careers, which has no pip of its own. This layer is rebuilt only when a
# lock file or the wheelhouse changes, not for a change to careers' code.
RUN set -eu; \
    if ls /wheelhouse/*.whl >/dev/null 2>&1; then source="--no-index --find-links /wheelhouse"; \
    else source=""; fi; \
    python3 -m venv /opt/build-tools; \
    /opt/build-tools/bin/pip install -q $source --require-hashes -r requirements-build.lock; \
    python3 -m venv --without-pip /opt/careers; \
    /opt/build-tools/bin/pip --python /opt/careers/bin/python install -q $source \
        --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY careers/ careers/
COPY templates/ templates/
COPY static/ static/
# careers itself, built from this tree by the locked build backend (no build isolation, so
# nothing unhashed is fetched; hatchling's wheels are reproducible).
RUN /opt/build-tools/bin/pip wheel -q --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
    && /opt/build-tools/bin/pip --python /opt/careers/bin/python install -q --no-deps \
        --no-index /tmp/dist/personio_careers-*.whl \
    && /opt/careers/bin/careers --version
# The SBOM of exactly what the image runs: every Python package in /opt/careers (CycloneDX
# JSON, validated by the tool). scripts/build-image copies it out to dist/sbom.cdx.json.
RUN /opt/build-tools/bin/cyclonedx-py environment --pyproject pyproject.toml \
        --output-reproducible --of JSON -o /opt/careers/sbom.cdx.json /opt/careers/bin/python

# ---- runtime ----
FROM ${BASE}
ARG DEBIAN_FRONTEND=noninteractive
# libmagic: the content checks of uploaded files. tini: PID 1 that passes SIGTERM on and
# reaps children, so every role (gunicorn, the worker, the demo's server) stops on
# `docker stop`, not only the ones that handle signals as PID 1.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libmagic1 tini >/dev/null \
    && rm -rf /var/lib/apt/lists/*
# A fixed uid, so a bind-mounted data directory can be given to it (chown 10001:10001).
# /data is created 0700: a new named volume takes its owner and mode from here.
RUN groupadd --system --gid 10001 careers \
    && useradd --system --uid 10001 --gid careers --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin careers \
    && install -d -m 0700 -o careers -g careers /data
COPY --from=build /opt/careers /opt/careers
COPY scripts/docker-entrypoint /usr/local/bin/careers-entrypoint
ENV PATH=/opt/careers/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CAREERS_DATA_DIR=/data
USER 10001:10001
WORKDIR /data
VOLUME /data
# `serve` listens on 8000 (all interfaces); `demo` on 5000, its Personio sandbox on 5001.
EXPOSE 8000
# gunicorn drains requests for up to 30 s: give `docker stop` 40 (`--stop-timeout 40`,
# compose `stop_grace_period: 40s`); the default 10 s cuts long uploads.
STOPSIGNAL SIGTERM
# A probe without curl: python's urllib, never through a proxy from the environment.
# Only `serve` answers HTTP on 8000: run other roles with --no-healthcheck.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.build_opener(u.ProxyHandler({})).open('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["/usr/bin/tini", "--", "careers-entrypoint"]
CMD ["serve"]

ARG BASE
ARG VERSION=unknown
ARG REVISION=unknown
LABEL org.opencontainers.image.title="careers" \
      org.opencontainers.image.description="Self-hosted career site and embeddable job widget for companies that recruit with Personio" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="${BASE}"
