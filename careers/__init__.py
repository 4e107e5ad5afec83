"""careers: a self-hosted career site and job widget for companies that recruit with Personio."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from .config import Settings, load_settings

__all__ = ["create_app"]

_PACKAGE = Path(__file__).resolve().parent


def _asset_dir(name: str) -> Path:
    """Inside the package in a wheel; at the repository root in a source checkout."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def create_app(settings: Settings | Mapping[str, str] | None = None) -> Flask:
    """Build the app from validated settings (or a dict of CAREERS_* values in tests)."""
    if not isinstance(settings, Settings):
        settings = load_settings(settings)
    app = Flask(
        __name__,
        template_folder=str(_asset_dir("templates")),
        static_folder=str(_asset_dir("static")),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=None,
        JSON_SORT_KEYS=False,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )

    from .web import register
    from .web.proxy import LoopbackProxyFix

    register(app, settings)
    app.wsgi_app = LoopbackProxyFix(app.wsgi_app)
    return app
