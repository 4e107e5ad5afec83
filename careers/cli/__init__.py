"""`careers` command line: one module per command, assembled into one click group here."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import click

from . import check, db, demo, outbox, sandbox, serve, worker

DISTRIBUTION = "personio-careers"


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="careers", message="%(prog)s %(version)s")
def main() -> None:
    """Career site and job widget for companies that recruit with Personio."""


for _module in (demo, serve, worker, outbox, db, check, sandbox):
    main.add_command(_module.command)
