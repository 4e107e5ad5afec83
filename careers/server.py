"""`careers serve`: the app under gunicorn, configured from already validated settings."""

from __future__ import annotations

from gunicorn.app.base import BaseApplication

from .config import Settings


class _Gunicorn(BaseApplication):
    """Embeds gunicorn so `careers serve` needs no separate config file."""

    def __init__(self, settings: Settings, options: dict, *, deliver: bool) -> None:
        self.settings_obj = settings
        self.options = options
        self.deliver = deliver
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from . import create_app

        app = create_app(self.settings_obj)
        if self.deliver:
            # Each worker process delivers too; leases and the shared rate limit in the
            # outbox keep them from stepping on each other (applications/delivery.py).
            from .applications.worker import build_deliverer, start_thread

            services = app.extensions["careers"]
            start_thread(
                build_deliverer(
                    self.settings_obj,
                    outbox=services.outbox,
                    spool=services.spool,
                    on_outcome=services.metrics.delivered,
                )
            )
        return app


def run_gunicorn(
    settings: Settings, *, host: str, port: int, workers: int, deliver: bool = True
) -> None:
    """Run in the foreground until stopped; each worker builds its own app and clients."""
    options = {
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
    _Gunicorn(settings, options, deliver=deliver and not settings.read_only).run()
