"""Languages: the URL decides; `Accept-Language` only picks the first page (docs/routes.md)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from flask_babel import Babel

from ..paths import FORMAL_DOMAIN, INFORMAL_DOMAIN, TRANSLATIONS
from . import services


def ui_language() -> str:
    """The language of the current page, or the visitor's preferred configured one."""
    lang: str | None = g.get("lang")
    if lang:
        return lang
    return preferred_language()


def preferred_language() -> str:
    """Best match of Accept-Language among the configured languages, else the default."""
    languages = services().settings.languages
    return request.accept_languages.best_match(languages) or languages[0]


def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Pages live under a configured language (`<lang:lang>`), kept in `g.lang`."""
    if values is not None and "lang" in values:
        g.lang = values.pop("lang")


def add_lang(endpoint: str, values: dict[str, Any]) -> None:
    """url_for() stays in the current language unless told otherwise."""
    if (
        "lang" not in values
        and g.get("lang")
        and current_app.url_map.is_endpoint_expecting(endpoint, "lang")
    ):
        values["lang"] = g.lang


def init_app(app: Flask) -> None:
    """Flask-Babel with our catalogues, one per Personio language, in the configured form of
    address (CAREERS_ADDRESS); times in CAREERS_TIMEZONE."""
    app.url_value_preprocessor(pull_lang)
    app.url_defaults(add_lang)
    # Flask-Babel merges one catalogue per (directory, domain) pair in order, each later entry
    # replacing an earlier one: the informal entries over the whole formal catalogue, as
    # careers.paths.catalogue does for mails.
    domains = [FORMAL_DOMAIN]
    if app.extensions["careers"].settings.informal:
        domains.append(INFORMAL_DOMAIN)
    Babel(
        app,
        locale_selector=ui_language,
        timezone_selector=lambda: services().settings.timezone,
        default_domain=";".join(domains),
        default_translation_directories=";".join(str(TRANSLATIONS) for _ in domains),
    )
