"""The web layer: blueprints, headers and error pages over the services of `careers.services`."""

from __future__ import annotations

from flask import Flask, current_app

from ..services import Services
from .cache import PageCache


def services() -> Services:
    """The current app's services (the seam tests use to reach the catalogue)."""
    svc: Services = current_app.extensions["careers"]
    return svc


def register(app: Flask, svc: Services) -> None:
    """Wire the app in small steps, in the order they depend on each other."""
    app.extensions["careers"] = svc
    app.extensions["careers.pages"] = PageCache()
    from . import (
        alerts,
        api,
        apply,
        assets,
        bodies,
        embed,
        errors,
        i18n,
        ops,
        pages,
        referrals,
        security,
        seo,
        site_links,
    )

    pages.register_language_converter(app, svc.settings.languages)
    i18n.init_app(app)
    site_links.init_app(app)
    assets.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    bodies.init_app(app)  # small bodies read before any view (the form streams its own)
    ops.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(apply.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(seo.bp)
    referrals.init_app(app)  # share links, referrals, open applications (template helpers)
    alerts.init_app(app)  # job alerts (pages 404 without a mail server)
