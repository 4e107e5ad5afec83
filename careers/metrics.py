"""Prometheus metrics, one registry per app so tests and workers never share counters."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


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
        )
        self.positions = Gauge(
            "careers_positions", "Open positions being served", ["language"], registry=self.registry
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
        )
        self.deliveries = Counter(
            "careers_delivery_attempts",
            "Delivery attempts of this process by outcome (delivered, retry, parked, ...)",
            ["outcome"],
            registry=self.registry,
        )
        self.uploads_reading = Gauge(
            "careers_uploads_reading",
            "Application bodies this process is reading now (at most its upload slots)",
            registry=self.registry,
        )
        self.rejections = Counter(
            "careers_application_rejections",
            "Refused submissions and documents by reason tag",
            ["reason"],
            registry=self.registry,
        )

        self.mails = Counter(
            "careers_mail_attempts",
            "Mail and webhook attempts of this process by kind and outcome (sent, retry, failed)",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.mail_queue = Gauge(
            "careers_mail_queue",
            "Entries of the mail queue by status (pending, sent, failed)",
            ["status"],
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "careers_job_alert_subscriptions",
            "Job-alert subscriptions by state (confirmed, unconfirmed)",
            ["state"],
            registry=self.registry,
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
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
