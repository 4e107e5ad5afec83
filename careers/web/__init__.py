"""The web layer: blueprints, services wiring, headers and error pages."""

from __future__ import annotations

import atexit
import sqlite3
from dataclasses import dataclass

from flask import Flask, current_app

from ..applications.guard import Attribution, FormGuard, Receipts
from ..applications.spool import Spool
from ..applications.sqlite_store import SQLiteOutbox
from ..applications.store import Outbox
from ..config import ConfigError, Settings
from ..jobs.catalogue import Catalogue
from ..jobs.store import FeedStore
from ..metrics import Metrics
from ..personio.feed import FeedClient
from .cache import PageCache


@dataclass
class Services:
    """Everything a request may need, created once per process."""

    settings: Settings
    feed_client: FeedClient
    catalogue: Catalogue
    metrics: Metrics
    page_cache: PageCache
    outbox: Outbox
    spool: Spool
    guard: FormGuard
    receipts: Receipts
    attribution: Attribution


def services() -> Services:
    """The current app's services (the seam tests use to reach the catalogue)."""
    return current_app.extensions["careers"]


def register(app: Flask, settings: Settings) -> None:
    """Wire the app in small steps, in the order they depend on each other."""
    register_services(app, settings)
    from . import api, apply, assets, embed, errors, i18n, links, ops, pages, security, seo

    pages.register_language_converter(app, settings.languages)
    i18n.init_app(app)
    links.init_app(app)
    assets.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    ops.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(apply.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(seo.bp)


def prepare_storage(settings: Settings) -> tuple[Outbox, Spool]:
    """Open the data directory's stores; an unusable directory is a configuration error."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        FeedStore(settings.data_dir).directory.mkdir(exist_ok=True)
        return SQLiteOutbox.from_url(settings.database_url), Spool(settings.data_dir / "spool")
    except (OSError, sqlite3.Error) as exc:
        raise ConfigError([f"CAREERS_DATA_DIR: cannot use {settings.data_dir}: {exc}"]) from None


def register_services(app: Flask, settings: Settings) -> None:
    """One feed client, catalogue, outbox and metrics registry per process."""
    outbox, spool = prepare_storage(settings)
    metrics = Metrics()
    client = FeedClient(settings.personio_feed_url)
    catalogue = Catalogue(
        client,
        FeedStore(settings.data_dir),
        settings.languages,
        settings.feed_ttl,
        on_fetch=metrics.feed_fetched,
    )
    app.extensions["careers"] = Services(
        settings=settings,
        feed_client=client,
        catalogue=catalogue,
        metrics=metrics,
        page_cache=PageCache(),
        outbox=outbox,
        spool=spool,
        guard=FormGuard(settings.secret_key),
        receipts=Receipts(settings.secret_key),
        attribution=Attribution(settings.secret_key),
    )
    atexit.register(client.close)
