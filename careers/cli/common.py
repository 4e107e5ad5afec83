"""What every command shares: settings read once, and one line per problem on failure."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TypeVar

import click

from ..config import ConfigError, Settings, StorageSettings, load_settings, load_storage_settings
from ..services import Services, Storage, build_services, open_storage

T = TypeVar("T")


def or_exit(build: Callable[[], T]) -> T:
    """Run a loader; on bad configuration print one line per problem and exit 2."""
    try:
        return build()
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"careers: configuration error: {problem}", err=True)
        sys.exit(2)


def settings_or_exit(*, demo: bool = False, env: Mapping[str, str] | None = None) -> Settings:
    """All settings, checked, with the data directory opened once to prove it usable."""

    def load() -> Settings:
        settings = load_settings(env, demo=demo)
        open_storage(settings.storage).close()
        return settings

    return or_exit(load)


def services_or_exit(settings: Settings) -> Services:
    """The composition root for commands that run the product."""
    return or_exit(lambda: build_services(settings))


def storage_or_exit() -> Storage:
    """Only the stores, from CAREERS_DATA_DIR / CAREERS_DATABASE_URL (for `careers outbox`)."""

    def load() -> Storage:
        storage: StorageSettings = load_storage_settings()
        return open_storage(storage)

    return or_exit(load)
