"""Personio accounts: the one of the CAREERS_PERSONIO_* variables, or several from
CAREERS_ACCOUNTS_FILE (docs/accounts.md).

An `Account` is everything careers needs to show one Personio account's jobs and deliver
its applications: where its feed is, its Recruiting API credentials, its languages, form,
privacy policy and request budget. config.py builds one implicit account (key "") from the
variables when no file is given, so the rest of careers always works over accounts.

The file is TOML; `load_accounts` checks all of it and raises `AccountsFileError` with
every problem at once, each naming the file, its line and the account. tomllib keeps no
line numbers, so they are found by scanning the text for the `[[account]]` headers and the
`key =` lines under each.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import config_parsers as parse
from .applications.form import FormFileError, FormSchema, load_form
from .ratelimit import RateLimit

# The implicit account's key: one account, from the CAREERS_PERSONIO_* variables. Outbox
# rows written before accounts existed carry it too (schema step 008): they belong to the
# first account, whichever it is.
DEFAULT_KEY = ""
KEY = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?")
# What an account in the file may say; `_env` names an environment variable holding it.
SECRETS = ("recruiting_token", "client_id", "client_secret")
KNOWN = frozenset(
    {
        "key",
        "name",
        "subdomain",
        "domain",
        "feed_url",
        "api_url",
        "company_id",
        "languages",
        "form_file",
        "privacy_url",
        "rate_limit",
        *SECRETS,
        *(f"{name}_env" for name in SECRETS),
    }
)


class AccountsFileError(Exception):
    """Problems of the accounts file, one line each, all of them."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Account:
    """One Personio account on the site."""

    key: str  # DEFAULT_KEY for the implicit account; URL-safe otherwise
    name: str  # the company facet, mails
    feed_url: str  # without ?language=
    api_url: str
    company_id: str = ""
    recruiting_token: str = field(default="", repr=False)
    client_id: str = field(default="", repr=False)
    client_secret: str = field(default="", repr=False)
    languages: tuple[str, ...] = ("en", "de")
    form: FormSchema = field(default_factory=FormSchema)
    privacy_url: str = ""
    rate_limit: RateLimit = RateLimit(20, 60)
    site_url: str = ""  # Personio's hosted career site, for "apply on Personio" links

    @property
    def api_version(self) -> int:
        """2 with an OAuth client (v1's token is then not used), else 1."""
        return 2 if self.client_id and self.client_secret else 1

    @property
    def read_only(self) -> bool:
        """No Recruiting API credentials: its applications go to Personio's own page."""
        v1 = self.company_id and self.recruiting_token
        return not (v1 or self.api_version == 2)

    @property
    def label(self) -> str:
        """How logs, commands and alerts name it: its key, or "default" for the implicit one."""
        return self.key or "default"


def site_of(subdomain: str, domain: str, feed_url: str) -> str:
    """Base of the hosted career site: <subdomain>.<domain>, else the feed's host."""
    if subdomain:
        return f"https://{subdomain}.{domain}"
    parts = urlsplit(feed_url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Defaults:
    """What an account that does not say takes from the site's settings."""

    languages: tuple[str, ...]
    rate_limit: RateLimit
    api_url: str
    domain: str
    form: FormSchema
    privacy_url: str
    # Derives a privacy policy from a Personio feed (config.py's rule), "" when none.
    privacy_default: Callable[[str, str, str], str]
    # Checks a form for the site's rules (pay history): "" when fine.
    form_problem: Callable[[FormSchema], str] = lambda form: ""


class _Lines:
    """Line numbers of the `[[account]]` headers and of keys inside each block."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers = [
            number
            for number, line in enumerate(self.lines, 1)
            if re.match(r"\s*\[\[\s*account\s*\]\]", line)
        ]

    def of(self, index: int, name: str | None = None) -> int:
        """The line of account `index`'s header, or of `name = …` inside its block."""
        if index >= len(self.headers):
            return 1
        start = self.headers[index]
        if name is None:
            return start
        end = self.headers[index + 1] if index + 1 < len(self.headers) else len(self.lines) + 1
        pattern = re.compile(rf"\s*{re.escape(name)}\s*=")
        for number in range(start + 1, end):
            if pattern.match(self.lines[number - 1]):
                return number
        return start


def load_accounts(path: Path, defaults: Defaults, env: Mapping[str, str]) -> tuple[Account, ...]:
    """Every account of the file, checked; AccountsFileError with all problems otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AccountsFileError([f"{path}: cannot read: {exc}"]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AccountsFileError([f"{path}: {exc}"]) from None
    lines = _Lines(text)
    problems: list[str] = []
    unknown = sorted(set(data) - {"account"})
    for name in unknown:
        problems.append(f"{path}: unknown table or key {name!r} (only [[account]] tables)")
    entries = data.get("account", [])
    if not isinstance(entries, list) or not entries:
        problems.append(f"{path}: no [[account]] tables: list at least one account")
        raise AccountsFileError(problems)
    accounts: list[Account] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        reader = _Reader(path, index, entry, lines, env)
        account = reader.account(defaults)
        problems.extend(reader.problems)
        if account is None:
            continue
        if account.key in seen:
            problems.append(
                reader.where("key")
                + f"key {account.key!r} is used twice (first at line {seen[account.key]})"
            )
            continue
        seen[account.key] = lines.of(index, "key")
        accounts.append(account)
    if problems:
        raise AccountsFileError(problems)
    return tuple(accounts)


class _Reader:
    """One `[[account]]` table: its values, and its problems with their lines."""

    def __init__(
        self, path: Path, index: int, entry: dict[str, Any], lines: _Lines, env: Mapping[str, str]
    ) -> None:
        self.path, self.index, self.entry, self.lines, self.env = path, index, entry, lines, env
        key = entry.get("key")
        self.label = f"account {key!r}" if isinstance(key, str) and key else f"account #{index + 1}"
        self.problems: list[str] = []

    def where(self, name: str | None = None) -> str:
        return f"{self.path}:{self.lines.of(self.index, name)}: {self.label}: "

    def fail(self, name: str | None, message: str) -> None:
        self.problems.append(self.where(name) + (f"{name}: " if name else "") + message)

    def text(self, name: str, check: Callable[[str], Any] | None = None, default: Any = "") -> Any:
        """A string value, checked by a config parser; the default when absent or bad."""
        if name not in self.entry:
            return default
        value = self.entry[name]
        if not isinstance(value, str) or not value.strip():
            self.fail(name, "must be a non-empty string")
            return default
        try:
            return check(value.strip()) if check else value.strip()
        except ValueError as exc:
            self.fail(name, str(exc))
            return default

    def secret(self, name: str) -> str:
        """Inline, or from the environment variable its `_env` key names."""
        inline, named = name in self.entry, f"{name}_env" in self.entry
        if inline and named:
            self.fail(name, f"give either {name} or {name}_env, not both")
            return ""
        if named:
            variable = self.text(f"{name}_env")
            if not variable:
                return ""
            value = (self.env.get(variable) or "").strip()
            if not value:
                self.fail(f"{name}_env", f"the environment variable {variable} is not set")
                return ""
            try:
                return str(parse.token(value))
            except ValueError as exc:
                self.fail(f"{name}_env", f"{variable}: {exc}")
                return ""
        return str(self.text(name, parse.token))

    def account(self, defaults: Defaults) -> Account | None:
        entry = self.entry
        if not isinstance(entry, dict):
            self.fail(None, "must be a table")
            return None
        for name in sorted(set(entry) - KNOWN):
            self.fail(name, f"unknown key (known: {', '.join(sorted(KNOWN))})")
        key = self.text("key")
        if "key" not in entry:
            self.fail(None, 'key: required, e.g. key = "acme-de"')
        elif key and not KEY.fullmatch(key):
            self.fail("key", "use 1-32 lower-case letters, digits and dashes, e.g. 'acme-de'")
            key = ""
        name = self.text("name")
        if "name" not in entry:
            self.fail(None, "name: required: the company name shown on the board")
        subdomain = self.text("subdomain", parse.subdomain)
        domain = self.text("domain", parse.personio_domain, defaults.domain)
        feed_url = self.text("feed_url", parse.url)
        if "subdomain" in entry and "feed_url" in entry:
            self.fail("feed_url", "give either subdomain or feed_url, not both")
        elif "subdomain" not in entry and "feed_url" not in entry:
            self.fail(None, 'subdomain: required (or feed_url), e.g. subdomain = "acme"')
        api_url = self.text("api_url", parse.url, defaults.api_url)
        company_id = self.text("company_id", _company_id)
        token = self.secret("recruiting_token")
        client_id, client_secret = self.secret("client_id"), self.secret("client_secret")
        for given, missing in (
            ("company_id", "recruiting_token"),
            ("recruiting_token", "company_id"),
            ("client_id", "client_secret"),
            ("client_secret", "client_id"),
        ):
            if _present(entry, given) and not _present(entry, missing):
                self.fail(given, f"{missing} is required with it (set both, or neither)")
        languages = self._languages(defaults.languages)
        rate_limit = self.text("rate_limit", parse.rate, defaults.rate_limit)
        privacy_url = self.text("privacy_url", parse.url)
        form = defaults.form
        if "form_file" in entry:
            form = self._form(languages, defaults)
        if self.problems:
            return None
        feed = feed_url or f"https://{subdomain}.{domain}/xml"
        privacy = privacy_url or defaults.privacy_default(subdomain, domain, feed_url)
        privacy = privacy or defaults.privacy_url
        account = Account(
            key=key,
            name=name,
            feed_url=feed,
            api_url=api_url,
            company_id=company_id,
            recruiting_token=token,
            client_id=client_id,
            client_secret=client_secret,
            languages=languages,
            form=form,
            privacy_url=privacy,
            rate_limit=rate_limit,
            site_url=site_of(subdomain, domain, feed),
        )
        if not account.read_only and not privacy:
            self.fail(
                "privacy_url",
                "required to take applications: the consent checkbox links the privacy"
                " policy (derived only for a feed on Personio's career site)",
            )
            return None
        return account

    def _languages(self, site: tuple[str, ...]) -> tuple[str, ...]:
        if "languages" not in self.entry:
            return site
        value = self.entry["languages"]
        if not isinstance(value, list) or not value or not all(isinstance(x, str) for x in value):
            self.fail("languages", 'must be a list of language codes, e.g. ["de", "en"]')
            return site
        outside = [lang for lang in value if lang not in site]
        if outside:
            self.fail(
                "languages",
                f"{', '.join(outside)} not among CAREERS_LANGUAGES ({','.join(site)}):"
                " the site has no pages in it",
            )
            return site
        return tuple(dict.fromkeys(value))

    def _form(self, languages: tuple[str, ...], defaults: Defaults) -> FormSchema:
        value = self.entry["form_file"]
        if not isinstance(value, str) or not value.strip():
            self.fail("form_file", "must be a file name, relative to the accounts file")
            return defaults.form
        path = self.path.parent / value.strip()
        if not path.is_file():
            self.fail("form_file", f"{path}: no such file")
            return defaults.form
        try:
            form = load_form(path, languages)
        except (FormFileError, OSError, UnicodeDecodeError) as exc:
            self.fail("form_file", str(exc))
            return defaults.form
        problem = defaults.form_problem(form)
        if problem:
            self.fail("form_file", problem)
        return form


def _company_id(value: str) -> str:
    return str(parse.company_id(value))


def _present(entry: dict[str, Any], name: str) -> bool:
    """Given inline or by an environment variable's name."""
    return name in entry or f"{name}_env" in entry


def account_name(accounts: Iterable[Account], key: str) -> str:
    """What the board calls an account (the `account` facet's label): its name."""
    return next((account.name for account in accounts if account.key == key), key)
