"""`careers worker`: deliver queued applications and send mail in the foreground until stopped."""

from __future__ import annotations

import signal
import sys
import threading

import click

from ..logs import configure_logging
from .common import services_or_exit, settings_or_exit


@click.command("worker")
def command() -> None:
    """Deliver queued applications to Personio and send queued mail until stopped
    (SIGTERM or Ctrl+C)."""
    configure_logging()  # before the settings: start-up logs the migrations it applies
    settings = settings_or_exit()
    mails = settings.mail_enabled or settings.alerts_enabled
    if settings.read_only and not mails:
        click.echo(
            "careers: configuration error: CAREERS_PERSONIO_COMPANY_ID and "
            "CAREERS_PERSONIO_RECRUITING_TOKEN are needed to deliver applications "
            "(or CAREERS_SMTP_URL for mail alone)",
            err=True,
        )
        sys.exit(2)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    services = services_or_exit(settings)
    loops = []
    mailer = services.mail_worker(stop) if mails else None
    if mailer is not None:
        loops.append(mailer.run)
    # One loop per account that takes applications (services.deliverers).
    loops.extend(deliverer.run for deliverer in services.deliverers(stop, mailer=mailer))
    helpers = [threading.Thread(target=run, daemon=True) for run in loops[:-1]]
    for thread in helpers:
        thread.start()
    try:
        loops[-1]()  # the last loop in the foreground, until a signal sets `stop`
    finally:
        stop.set()
        for thread in helpers:
            thread.join(timeout=30)
        services.close()
