"""`careers serve`: the app under gunicorn, configured from already validated settings."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask
from gunicorn.app.base import BaseApplication

from ..config import Settings
from ..logs import configure_logging
from .common import settings_or_exit


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
        """Runs in each worker process: its own services, and its own delivery thread."""
        from .. import create_app
        from ..services import build_services

        services = build_services(self.settings_obj)
        app = create_app(services=services)
        if self.deliver:
            # Each worker process delivers too; leases and the shared rate limit in the
            # outbox keep them from stepping on each other (applications/delivery.py).
            services.start_delivery()
        return app


def gunicorn_options(host: str, port: int, workers: int) -> dict[str, Any]:
    """gunicorn's settings for `serve` (the benchmarks run their baselines under the same)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # Threads let a worker answer while another request waits on a slow client upload.
        "threads": 4,
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 30,
        "accesslog": "-",
        # No query strings in the access log: they can carry search terms a person typed.
        "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        "forwarded_allow_ips": "127.0.0.1,::1",
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
    deliver = not no_worker and not settings.read_only
    _Gunicorn(settings, gunicorn_options(host, port, workers), deliver=deliver).run()
