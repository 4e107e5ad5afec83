"""`careers worker`: deliver queued applications in the foreground until stopped."""

from __future__ import annotations

import signal
import sys
import threading

import click

from ..logs import configure_logging
from .common import services_or_exit, settings_or_exit


@click.command("worker")
def command() -> None:
    """Deliver queued applications to Personio until stopped (SIGTERM or Ctrl+C)."""
    settings = settings_or_exit()
    if settings.read_only:
        click.echo(
            "careers: configuration error: CAREERS_PERSONIO_COMPANY_ID and "
            "CAREERS_PERSONIO_RECRUITING_TOKEN are needed to deliver applications",
            err=True,
        )
        sys.exit(2)
    configure_logging()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    services = services_or_exit(settings)
    try:
        services.deliverer(stop).run()
    finally:
        services.close()
