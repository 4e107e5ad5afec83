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
from .common import settings_or_exit
from .front import WORKER_CONNECTIONS, FrontWorker


class _Gunicorn(BaseApplication):  # gunicorn ships no type hints: BaseApplication is Any
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

        services = build_services(self.settings_obj)
        app = create_app(services=services)
        if self.deliver:
            # Each worker process delivers and mails too; leases and the shared rate limit
            # in the store keep them from stepping on each other (applications/delivery.py,
            # mail/worker.py).
            services.start_workers()
        return app


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
    host: str, port: int, workers: int, data_dir: Path | None = None
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
        "forwarded_allow_ips": "127.0.0.1,::1",
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
    settings = settings_or_exit()
    configure_logging()
    if not settings.public_url:
        click.echo(PUBLIC_URL_WARNING, err=True)
    deliver = not no_worker
    options = gunicorn_options(host, port, workers, settings.data_dir)
    _Gunicorn(settings, options, deliver=deliver).run()
