"""`careers serve`: the app under gunicorn, configured from already validated settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from ..applications.rules import SERVE_THREADS
from ..config import Settings
from ..logs import GunicornLogger, configure_logging
from ..metrics import process_exited, share_between_processes
from ..network import LOOPBACK, Network, gunicorn_allow_list
from .common import settings_or_exit
from .front import WORKER_CONNECTIONS, FrontWorker


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    """Embeds gunicorn so `careers serve` needs no separate config file."""

    def __init__(self, settings: Settings, options: dict[str, Any], *, deliver: bool) -> None:
        self.settings_obj = settings
        self.options = options
        self.deliver = deliver
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Runs in each worker process: its own services, and its own delivery and mail threads."""
        from .. import create_app
        from ..services import build_services

        # The master brought the schema up to date before forking (settings_or_exit), and
        # a schema never moves back: a worker (or its replacement) only opens the stores.
        services = build_services(self.settings_obj, starting=False)
        app = create_app(services=services)
        if self.deliver:
            # Each worker process delivers and mails too; leases and the shared rate limit
            # in the store keep them from stepping on each other (applications/delivery.py,
            # mail/worker.py).
            services.start_workers()
        return app


def _worker_exited(server: Any, worker: Any) -> None:
    """gunicorn's `child_exit` hook, run by the master for each worker that ends."""
    process_exited(worker.pid)


def _without_server_header() -> None:
    """gunicorn writes `Server: gunicorn` in its own response writer, below the app, and has
    no setting for it: drop that line there, so responses do not announce the server (what
    `careers serve` runs on is nobody's business but ours; docs/security.md)."""
    from gunicorn.http import wsgi

    writer = wsgi.Response
    if getattr(writer.default_headers, "careers_quiet", False):
        return
    announcing = writer.default_headers

    def default_headers(self: Any) -> list[str]:
        return [line for line in announcing(self) if not line.startswith("Server:")]

    default_headers.careers_quiet = True  # type: ignore[attr-defined]
    writer.default_headers = default_headers


# Longest path a Unix socket can have on Linux (sun_path is 108 bytes with its NUL).
_SOCKET_PATH_MAX = 107
PUBLIC_URL_WARNING = (
    "careers: warning: CAREERS_PUBLIC_URL is not set, so redirects and absolute links "
    "(canonical, sitemap, JSON-LD, Atom) name whatever host each request claims; set it to "
    "the public address (e.g. https://jobs.acme.com) so a forged Host header cannot send "
    "visitors, crawlers or caches to another site"
)


def _control_socket(data_dir: Path | None) -> dict[str, Any]:
    """gunicorn's control socket (`gunicornc -s PATH`) in the data directory, never the
    per-user default path that a second `careers serve` on the machine would take over."""
    if data_dir is not None:
        path = data_dir.resolve() / "gunicorn.ctl"
        if len(str(path).encode()) <= _SOCKET_PATH_MAX:
            return {"control_socket": str(path)}
    return {"control_socket_disable": True}


def gunicorn_options(
    host: str,
    port: int,
    workers: int,
    data_dir: Path | None = None,
    trusted_proxies: tuple[Network, ...] = LOOPBACK,
) -> dict[str, Any]:
    """gunicorn's settings for `serve` (the benchmarks run their baselines under the same)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Many threads, few of them for bodies: an upload holds its thread while the client
        # sends, so at most UPLOAD_SLOTS of them read bodies and the rest stay free for
        # pages (careers/applications/slowbody.py; figures in docs/benchmarks.md).
        "threads": SERVE_THREADS,
        # gthread with request heads and small bodies read in the event loop, so idle and
        # slowloris connections hold no thread (careers/cli/front.py); 1,000 idle connections
        # a process fit (the open-file limit is raised to its hard limit at start).
        "worker_class": FrontWorker,
        "worker_connections": WORKER_CONNECTIONS,
        "timeout": 60,
        "graceful_timeout": 30,
        "accesslog": "-",
        # No query strings in the access log: they can carry search terms a person typed.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        # Control characters escaped and receipt ids cut in every line (careers/logs.py).
        "logger_class": GunicornLogger,
        # gunicorn sets the scheme from X-Forwarded-Proto (and -Ssl, -Protocol) for these
        # peers: the same proxies whose X-Forwarded-* the app believes (web/proxy.py).
        "forwarded_allow_ips": gunicorn_allow_list(trusted_proxies),
        **_control_socket(data_dir),
    }


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option(
    "--no-worker", is_flag=True, help="Do not deliver applications here (run `careers worker`)."
)
def command(host: str, port: int, workers: int, no_worker: bool) -> None:
    """Production server (gunicorn); configuration from CAREERS_* variables."""
    configure_logging()  # before the settings: start-up logs the migrations it applies
    settings = settings_or_exit()
    if not settings.public_url:
        click.echo(PUBLIC_URL_WARNING, err=True)
    deliver = not no_worker
    options = gunicorn_options(
        host, port, workers, settings.data_dir, trusted_proxies=settings.trusted_proxies
    )
    # Every worker counts into <data dir>/metrics, so /metrics sums them all (careers/metrics.py).
    share_between_processes(settings.data_dir / "metrics")
    options["child_exit"] = _worker_exited
    _without_server_header()
    _Gunicorn(settings, options, deliver=deliver).run()
