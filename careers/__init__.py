"""careers: a self-hosted career site and job widget for companies that recruit with Personio."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from flask import Flask

from .config import Settings, load_settings
from .paths import asset_dir

if TYPE_CHECKING:
    from .services import Services

__all__ = ["asset_dir", "create_app"]


def create_app(
    settings: Settings | Mapping[str, str] | None = None, *, services: Services | None = None
) -> Flask:
    """Build the app from validated settings (or a dict of CAREERS_* values in tests), or
    around services the caller built and keeps using (the delivery thread of `serve`)."""
    # Imported here, not above: every `import careers.<anything>` runs this file first, and
    # a sandbox or a CLI command should not pay a second for the web stack. Nothing imports
    # this package back (tests/test_layout.py), so this hides no cycle.
    from .services import build_services
    from .web import register
    from .web.bodies import SMALL_BODY_BYTES
    from .web.counting import Counting
    from .web.fastpath import FastPath
    from .web.hosts import PublicHost
    from .web.proxy import TrustedProxyFix

    if services is not None:
        settings = services.settings
    elif not isinstance(settings, Settings):
        settings = load_settings(settings)

    app = Flask(
        __name__,
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # A backstop: web/bodies.py reads every body but the form's within this, and the
        # form raises it for its own request (web/apply.py).
        MAX_CONTENT_LENGTH=SMALL_BODY_BYTES,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep our key order in JSON

    svc = services or build_services(settings)
    register(app, svc)
    # Flask's documented way to add WSGI middleware; mypy sees wsgi_app only as a method.
    # FastPath answers warm pages with what Flask sent for them; innermost, so it sees the
    # request as Flask does. PublicHost wraps it, so it runs after TrustedProxyFix has read
    # the forwarded headers: nothing a client sends can change the host it pins.
    app.wsgi_app = FastPath(app.wsgi_app, svc, app.extensions["careers.pages"])  # type: ignore[method-assign]
    # Counting wraps the fast path, so replayed pages are counted like rendered ones.
    if svc.tally is not None:
        app.wsgi_app = Counting(app.wsgi_app, svc.tally, settings.languages)  # type: ignore[method-assign]
    if settings.public_url:
        app.wsgi_app = PublicHost(app.wsgi_app, settings.public_url)  # type: ignore[method-assign]
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, settings.trusted_proxies)  # type: ignore[method-assign]
    return app
