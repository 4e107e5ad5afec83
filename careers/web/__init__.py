"""The web layer: blueprints, services wiring, headers and error pages."""

from __future__ import annotations

import atexit
from dataclasses import dataclass

from flask import Flask, current_app

from ..config import Settings
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


def services() -> Services:
    """The current app's services (the seam tests use to reach the catalogue)."""
    return current_app.extensions["careers"]


def register(app: Flask, settings: Settings) -> None:
    """Wire the app in small steps, in the order they depend on each other."""
    register_services(app, settings)
    from . import api, errors, i18n, ops, pages, security

    pages.register_language_converter(app, settings.languages)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    ops.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ops.bp)


def register_services(app: Flask, settings: Settings) -> None:
    """One feed client, one catalogue, one metrics registry per process."""
    metrics = Metrics()
    client = FeedClient(settings.personio_feed_url)
    catalogue = Catalogue(
        client,
        FeedStore(settings.data_dir),
        settings.languages,
        settings.feed_ttl,
        on_fetch=metrics.feed_fetched,
    )
    app.extensions["careers"] = Services(settings, client, catalogue, metrics, PageCache())
    atexit.register(client.close)
