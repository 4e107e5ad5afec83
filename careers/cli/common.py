"""What every command shares: settings read once, and one line per problem on failure."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from ..config import (
    ConfigError,
    Settings,
    StorageSettings,
    load_settings,
    load_storage_settings,
    unknown_variables,
)
from ..envfile import EnvFileError, read_env_file
from ..services import Services, Storage, build_services, open_storage

T = TypeVar("T")


def or_exit(build: Callable[[], T]) -> T:
    """Run a loader; on bad configuration print one line per problem and exit 2."""
    try:
        return build()
    except ConfigError as exc:
        exit_with(exc)


def exit_with(exc: ConfigError) -> NoReturn:
    """One `configuration error` line per problem, then exit 2."""
    for problem in exc.problems:
        click.echo(f"careers: configuration error: {problem}", err=True)
    sys.exit(2)


def apply_env_file(path: Path) -> None:
    """`careers --env-file FILE`: the file fills in what the environment does not set, the
    way an exported variable overrides a `.env` file elsewhere (docs/deployment.md); each
    variable the environment overrides is named, so no one wonders why an edit has no
    effect. A malformed file stops the command with its line number and exit 2."""
    try:
        found = read_env_file(path)
    except EnvFileError as exc:
        click.echo(f"careers: --env-file {exc}", err=True)
        sys.exit(2)
    for name, value in found.items():
        current = os.environ.get(name, "")
        if not current.strip():
            os.environ[name] = value
        elif current != value:
            click.echo(f"careers: note: {name} is taken from the environment, not {path}", err=True)


def warn_unknown_variables(env: Mapping[str, str]) -> None:
    """A typo'd name is silently not a setting: say so at start, one warning line each."""
    for item in unknown_variables(env):
        click.echo(f"careers: warning: unknown variable {item}", err=True)


def settings_or_exit(*, demo: bool = False, env: Mapping[str, str] | None = None) -> Settings:
    """All settings, checked, with the data directory opened once to prove it usable and
    its schema brought up to date: the start-up of `serve` (in gunicorn's master, before
    it forks), `worker` and `demo` (services.migrate_at_start). `careers check` does not
    come here: it only looks at the schema (services.schema_versions).
    Unknown CAREERS_* variables are warned about first; an explicit `env` (the demo's) is
    looked at together with the process environment, where the operator's own are."""
    warn_unknown_variables(os.environ if env is None else {**os.environ, **env})

    def load() -> Settings:
        settings = load_settings(env, demo=demo)
        open_storage(settings.storage, starting=True).close()
        return settings

    return or_exit(load)


def services_or_exit(settings: Settings) -> Services:
    """The composition root for commands that run the product; the schema is as
    `settings_or_exit` left it (brought up to date at start, or only looked at by check)."""
    return or_exit(lambda: build_services(settings, starting=False))


def storage_or_exit() -> Storage:
    """Only the stores, from CAREERS_DATA_DIR / CAREERS_DATABASE_URL (for `careers outbox`)."""
    warn_unknown_variables(os.environ)

    def load() -> Storage:
        storage: StorageSettings = load_storage_settings()
        return open_storage(storage)

    return or_exit(load)


def libmagic_problem() -> str | None:
    """None when uploads can be checked, else one line saying what is wrong.

    python-magic loads libmagic when it is imported, so a missing library surfaces as an
    ImportError of careers/applications/files.py, worded there; a present library without
    its database fails on first use, which `ready()` provokes now.
    """
    try:
        from ..applications.files import sniff_mimetype

        sniff_mimetype.ready()
    except ImportError as exc:
        return str(exc)
    except Exception as exc:  # magic.MagicException, whose module may not be importable
        return f"libmagic cannot identify files: {' '.join(str(exc).split())}"
    return None


def require_libmagic() -> None:
    """For the commands that take applications: without libmagic, one line and exit 2."""
    problem = libmagic_problem()
    if problem is not None:
        click.echo(f"careers: {problem}", err=True)
        sys.exit(2)
