"""Prometheus metrics, one registry per app so tests never share counters; under
`careers serve` every gunicorn worker writes into one directory (multi-process mode)."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
    values,
)

# prometheus-client's multi-process mode (prometheus.github.io/client_python/multiprocess/):
# with this variable set, every metric value lives in a memory-mapped file of that directory,
# one per process, and a scrape sums the files of all processes (dead ones included), so a
# counter never goes back whichever worker answers or when one is restarted.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_dir() -> str | None:
    """The shared directory when this process is one of several (gunicorn workers)."""
    return os.environ.get(MULTIPROC_ENV) or None


def share_between_processes(directory: Path) -> None:
    """Called once by the gunicorn master before it forks workers: an empty directory (files
    of an earlier run would be summed in), named in the environment for the workers.

    prometheus-client picks its value class when it is first imported, and the `careers`
    command has imported it by now; `get_value_class()` is that same choice made again, so
    the workers forked after this write their values to the directory.
    """
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.glob("*.db"):
        old.unlink()
    os.environ[MULTIPROC_ENV] = str(directory.resolve())
    values.ValueClass = values.get_value_class()


def process_exited(pid: int) -> None:
    """gunicorn's `child_exit` hook: the dead worker's live gauges stop counting; its
    counters stay in the sum."""
    directory = multiprocess_dir()
    if directory:
        multiprocess.mark_process_dead(pid, directory)


class Metrics:
    """The counters an operator needs to see the feed and the site working."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.feed_fetches = Counter(
            "careers_feed_fetch",
            "Feed refresh attempts by language and outcome (ok, not_modified, or a reason tag)",
            ["language", "outcome"],
            registry=self.registry,
        )
        self.feed_age = Gauge(
            "careers_feed_age_seconds",
            "Seconds since Personio last confirmed the copy being served",
            ["language"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.positions = Gauge(
            "careers_positions",
            "Open positions being served",
            ["language"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.requests = Counter(
            "careers_http_requests",
            "HTTP requests by endpoint and status",
            ["endpoint", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "careers_http_request_duration_seconds",
            "Time to answer, by endpoint",
            ["endpoint"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )

        self.outbox = Gauge(
            "careers_outbox_applications",
            "Applications in the outbox by status (pending, delivered receipts, parked)",
            ["status"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.deliveries = Counter(
            "careers_delivery_attempts",
            "Delivery attempts by outcome (delivered, retry, parked, ...)",
            ["outcome"],
            registry=self.registry,
        )
        self.uploads_reading = Gauge(
            "careers_uploads_reading",
            "Application bodies being read now (at most the upload slots of each process)",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.rejections = Counter(
            "careers_application_rejections",
            "Refused submissions and documents by reason tag",
            ["reason"],
            registry=self.registry,
        )

        self.mails = Counter(
            "careers_mail_attempts",
            "Mail and webhook attempts by kind and outcome (sent, retry, failed)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.mail_queue = Gauge(
            "careers_mail_queue",
            "Entries of the mail queue by status (pending, sent, failed)",
            ["status"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )
        self.subscriptions = Gauge(
            "careers_job_alert_subscriptions",
            "Job-alert subscriptions by state (confirmed, unconfirmed)",
            ["state"],
            registry=self.registry,
            multiprocess_mode="mostrecent",
        )

    def mailed(self, kind: str, outcome: str) -> None:
        """Called by an in-process mail worker after every attempt."""
        self.mails.labels(kind, outcome).inc()

    def feed_fetched(self, language: str, outcome: str) -> None:
        """Called by the catalogue after every refresh attempt."""
        self.feed_fetches.labels(language, outcome).inc()

    def delivered(self, outcome: str) -> None:
        """Called by an in-process delivery worker after every attempt."""
        self.deliveries.labels(outcome).inc()

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Called once per request by the ops hooks."""
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition: this app's registry, or with several processes
        the sum over all of them (their own registries only hold this process's share)."""
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        return generate_latest(registry)
