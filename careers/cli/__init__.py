"""`careers` command line: one module per command, assembled into one click group here."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click

from . import check, db, demo, outbox, report, sandbox, serve, worker
from .common import apply_env_file, require_libmagic

DISTRIBUTION = "personio-careers"


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="careers", message="%(prog)s %(version)s")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Read variables from a systemd EnvironmentFile (e.g. /etc/careers.env) first, as"
    " the service sees them; a variable already set (not empty) in the environment wins.",
)
def main(env_file: Path | None) -> None:
    """Career site and job widget for companies that recruit with Personio."""
    if env_file is not None:
        apply_env_file(env_file)


def needs_libmagic(command: click.Command) -> click.Command:
    """Commands that take applications check uploads with libmagic: without it they stop at
    once with one line (and exit 2), not with a traceback from the first import of the app
    (or, under gunicorn, from every worker that fails to boot). `--help` still works."""
    run = command.callback
    assert run is not None

    @functools.wraps(run)
    def checked(*args: Any, **kwargs: Any) -> Any:
        require_libmagic()
        return run(*args, **kwargs)

    command.callback = checked
    return command


for _module in (demo, serve, worker, outbox, db, check, sandbox, report):
    main.add_command(_module.command)
# The worker only forwards files checked when they arrived; `check` reports libmagic itself.
for _command in (demo.command, serve.command):
    needs_libmagic(_command)
