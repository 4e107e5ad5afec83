"""Where the package's own files are: templates, static files and translation catalogues.

Its own module, below everything that reads those files, so the web layer and the mail
composer find them without importing the root package that builds the app.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """Templates or static files: inside the package in a wheel; at the repository root in
    a source checkout."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


# The site's catalogues, one per language: pages (web/i18n.py) and mails (mail/compose.py).
TRANSLATIONS = _PACKAGE / "translations"
