"""Where the package's own files are: templates, static files and translation catalogues.

Its own module, below everything that reads those files, so the web layer and the mail
composer find them without importing the root package that builds the app.
"""

from __future__ import annotations

from pathlib import Path

from babel.support import NullTranslations, Translations

_PACKAGE = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """Templates or static files: inside the package in a wheel; at the repository root in
    a source checkout."""
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


# The site's catalogues, one per language: pages (web/i18n.py) and mails (mail/compose.py).
TRANSLATIONS = _PACKAGE / "translations"

# The form of address (CAREERS_ADDRESS, docs/languages.md). `messages` is every language's
# whole catalogue in the formal address; `informal` holds only the entries that read
# differently when the reader is addressed informally ("du" rather than "Sie"). With informal
# address, a lookup asks `informal` first and falls back to `messages`.
FORMAL_DOMAIN = "messages"
INFORMAL_DOMAIN = "informal"


def catalogue(language: str, *, informal: bool) -> NullTranslations:
    """One language's gettext catalogue in the configured form of address (English, the
    source language, has none: its msgids are the text)."""
    formal = Translations.load(str(TRANSLATIONS), [language], FORMAL_DOMAIN)
    if not informal:
        return formal
    overlay = Translations.load(str(TRANSLATIONS), [language], INFORMAL_DOMAIN)
    if not isinstance(overlay, Translations):  # no informal.mo: nothing reads differently
        return formal
    overlay.add_fallback(formal)
    return overlay
