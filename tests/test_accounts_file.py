"""CAREERS_ACCOUNTS_FILE: several Personio accounts read from TOML, every problem reported
at once with its line and account; one account from the variables works as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from careers.config import ConfigError, load_settings
from careers.ratelimit import RateLimit

from .applying import FORM
from .apps import SECRET

GOOD = """\
# Two legal entities and an agency client.
[[account]]
key = "acme-de"
name = "Acme Robotics GmbH"
subdomain = "acme"
company_id = "123456"
recruiting_token_env = "ACME_DE_TOKEN"
languages = ["de", "en"]
form_file = "acme-de-form.toml"

[[account]]
key = "acme-at"
name = "Acme Robotics Austria GmbH"
feed_url = "https://jobs.acme.example/at/xml"
company_id = "654321"
recruiting_token = "at-token-0123456789"
privacy_url = "https://acme.example/at/privacy"
rate_limit = "10/60"
api_url = "https://personio.proxy.example"

[[account]]
key = "globex"
name = "Globex"
subdomain = "globex"
domain = "jobs.personio.com"
client_id_env = "GLOBEX_CLIENT_ID"
client_secret_env = "GLOBEX_CLIENT_SECRET"
"""


def _env(tmp_path: Path, text: str, **extra: str) -> dict[str, str]:
    path = tmp_path / "accounts.toml"
    path.write_text(text, encoding="utf-8")
    return {
        "CAREERS_ACCOUNTS_FILE": str(path),
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path / "data"),
        **extra,
    }


def test_three_accounts_are_read_with_their_own_settings_and_the_sites_defaults(tmp_path):
    (tmp_path / "acme-de-form.toml").write_text(FORM, encoding="utf-8")
    env = _env(
        tmp_path,
        GOOD,
        ACME_DE_TOKEN="de-token-0123456789",
        GLOBEX_CLIENT_ID="globex-client",
        GLOBEX_CLIENT_SECRET="globex-secret-0123456789",
        CAREERS_LANGUAGES="en,de,fr",
        CAREERS_PERSONIO_RATE_LIMIT="15/60",
    )
    settings = load_settings(env)
    de, at, globex = settings.accounts
    assert [a.key for a in settings.accounts] == ["acme-de", "acme-at", "globex"]
    assert settings.several_accounts and not settings.read_only

    assert de.name == "Acme Robotics GmbH"
    assert de.feed_url == "https://acme.jobs.personio.de/xml"
    assert de.site_url == "https://acme.jobs.personio.de"
    assert de.privacy_url == "https://acme.jobs.personio.de/privacy-policy"
    assert de.api_url == "https://api.personio.de"
    assert (de.company_id, de.recruiting_token, de.api_version) == (
        "123456",
        "de-token-0123456789",
        1,
    )
    assert de.languages == ("de", "en")
    assert de.rate_limit == RateLimit(15, 60)  # CAREERS_PERSONIO_RATE_LIMIT
    assert [f.id for f in de.form.fields] == ["custom_attribute_1002", "custom_attribute_1001"]

    assert at.feed_url == "https://jobs.acme.example/at/xml"
    assert at.api_url == "https://personio.proxy.example"
    assert at.rate_limit == RateLimit(10, 60)
    assert at.languages == ("en", "de", "fr")  # CAREERS_LANGUAGES
    assert at.form.fields == ()  # no form file: the site's (none)

    assert globex.feed_url == "https://globex.jobs.personio.com/xml"
    assert globex.api_version == 2 and globex.client_id == "globex-client"

    # What speaks of one account takes the first.
    assert settings.company_name == "Acme Robotics GmbH"
    assert settings.personio_feed_url == de.feed_url
    assert settings.account("") is de and settings.account("globex") is globex
    # Secrets never show.
    shown = repr(settings) + repr(settings.accounts)
    for secret in ("de-token-0123456789", "at-token-0123456789", "globex-secret-0123456789"):
        assert secret not in shown


def test_every_problem_of_the_file_is_reported_at_once_with_its_line_and_account(tmp_path):
    text = """\
[[account]]
key = "acme-de"
name = "Acme"
subdomain = "acme"
company_id = "12x"
recruiting_token_env = "NOT_SET_ANYWHERE"
colour = "blue"

[[account]]
key = "Acme DE"
subdomain = "acme2"
languages = ["de", "xx"]
rate_limit = "lots"

[[account]]
key = "acme-de"
name = "Again"
subdomain = "acme3"
feed_url = "https://x.example/xml"
client_id = "only-the-id"
form_file = "missing.toml"
"""
    env = _env(tmp_path, text)
    with pytest.raises(ConfigError) as failed:
        load_settings(env)
    path = tmp_path / "accounts.toml"
    prefix = f"CAREERS_ACCOUNTS_FILE: {path}"
    problems = failed.value.problems
    expected = [
        f"{prefix}:7: account 'acme-de': colour: unknown key",
        f"{prefix}:5: account 'acme-de': company_id: must be the numeric company id",
        f"{prefix}:6: account 'acme-de': recruiting_token_env: the environment variable"
        " NOT_SET_ANYWHERE is not set",
        f"{prefix}:10: account 'Acme DE': key: use 1-32 lower-case letters",
        f"{prefix}:9: account 'Acme DE': name: required",
        f"{prefix}:12: account 'Acme DE': languages: xx not among CAREERS_LANGUAGES (en,de)",
        f"{prefix}:13: account 'Acme DE': rate_limit:",
        f"{prefix}:19: account 'acme-de': feed_url: give either subdomain or feed_url",
        f"{prefix}:20: account 'acme-de': client_id: client_secret is required with it",
        f"{prefix}:21: account 'acme-de': form_file: {tmp_path / 'missing.toml'}: no such file",
    ]
    assert len(problems) == len(expected), "\n".join(problems)
    for line, start in zip(problems, expected, strict=True):
        assert line.startswith(start), f"{line!r} does not start with {start!r}"


def test_a_key_used_twice_names_both_lines(tmp_path):
    text = """\
[[account]]
key = "acme"
name = "Acme"
subdomain = "acme"

[[account]]
key = "acme"
name = "Acme again"
subdomain = "acme-two"
"""
    with pytest.raises(ConfigError) as failed:
        load_settings(_env(tmp_path, text))
    assert failed.value.problems == [
        f"CAREERS_ACCOUNTS_FILE: {tmp_path / 'accounts.toml'}:7: account 'acme': key 'acme'"
        " is used twice (first at line 2)"
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no [[account]] tables: list at least one account"),
        ("[[account]\n", "at the end of an array declaration (at line 1"),
        ('account = "x"\n', "no [[account]] tables"),
    ],
)
def test_a_file_without_accounts_or_not_toml_is_refused(tmp_path, text, problem):
    with pytest.raises(ConfigError) as failed:
        load_settings(_env(tmp_path, text))
    assert problem in failed.value.problems[-1]


def test_an_account_taking_applications_without_a_derivable_privacy_policy_is_refused(tmp_path):
    text = """\
[[account]]
key = "proxy"
name = "Behind a proxy"
feed_url = "https://jobs.acme.example/xml"
company_id = "1"
recruiting_token = "token-0123456789"
"""
    with pytest.raises(ConfigError) as failed:
        load_settings(_env(tmp_path, text))
    [problem] = failed.value.problems
    assert ":1: account 'proxy': privacy_url: required to take applications" in problem
    # The site's CAREERS_PRIVACY_URL is every account's default.
    env = _env(tmp_path, text, CAREERS_PRIVACY_URL="https://acme.example/privacy")
    assert load_settings(env).accounts[0].privacy_url == "https://acme.example/privacy"


def test_an_accounts_own_variables_beside_the_file_are_refused(tmp_path):
    env = _env(
        tmp_path,
        '[[account]]\nkey = "a"\nname = "A"\nsubdomain = "acme"\n',
        CAREERS_PERSONIO_SUBDOMAIN="acme",
        CAREERS_PERSONIO_RECRUITING_TOKEN="token-0123456789",
    )
    with pytest.raises(ConfigError) as failed:
        load_settings(env)
    assert [p.split(":")[0] for p in failed.value.problems] == [
        "CAREERS_PERSONIO_SUBDOMAIN",
        "CAREERS_PERSONIO_RECRUITING_TOKEN",
    ]
    assert all("not used with CAREERS_ACCOUNTS_FILE" in p for p in failed.value.problems)


def test_a_missing_accounts_file_is_one_line():
    with pytest.raises(ConfigError) as failed:
        load_settings(
            {"CAREERS_ACCOUNTS_FILE": "/nonexistent/accounts.toml", "CAREERS_SECRET_KEY": SECRET}
        )
    [problem] = failed.value.problems
    assert problem.startswith("CAREERS_ACCOUNTS_FILE: ")


def test_one_account_from_the_variables_is_the_implicit_account(tmp_path):
    settings = load_settings(
        {
            "CAREERS_PERSONIO_SUBDOMAIN": "acme",
            "CAREERS_PERSONIO_COMPANY_ID": "42",
            "CAREERS_PERSONIO_RECRUITING_TOKEN": "token-0123456789",
            "CAREERS_PERSONIO_RATE_LIMIT": "12/60",
            "CAREERS_SECRET_KEY": SECRET,
        }
    )
    [account] = settings.accounts
    assert account.key == "" and account.label == "default"
    assert account.name == settings.company_name == "acme"
    assert account.feed_url == settings.personio_feed_url == "https://acme.jobs.personio.de/xml"
    assert account.site_url == settings.personio_site_url == "https://acme.jobs.personio.de"
    assert (account.company_id, account.recruiting_token) == ("42", "token-0123456789")
    assert account.rate_limit == RateLimit(12, 60)
    assert account.privacy_url == settings.privacy_url
    assert account.languages == settings.languages
    assert not settings.several_accounts and not settings.read_only


def test_a_site_language_no_account_offers_is_refused(tmp_path):
    text = '[[account]]\nkey = "a"\nname = "A"\nsubdomain = "acme"\nlanguages = ["de"]\n'
    with pytest.raises(ConfigError) as failed:
        load_settings(_env(tmp_path, text, CAREERS_LANGUAGES="de,en"))
    assert failed.value.problems == [
        "CAREERS_LANGUAGES: en offered by no account of CAREERS_ACCOUNTS_FILE: its pages would"
        " never have a job; drop it, or add it to an account's languages"
    ]


def test_an_accounts_form_asking_the_referrer_field_is_refused(tmp_path):
    (tmp_path / "form.toml").write_text(FORM, encoding="utf-8")
    text = '[[account]]\nkey = "a"\nname = "A"\nsubdomain = "acme"\nform_file = "form.toml"\n'
    env = _env(tmp_path, text, CAREERS_REFERRER_FIELD="custom_attribute_1001")
    with pytest.raises(ConfigError) as failed:
        load_settings(env)
    assert failed.value.problems == [
        "CAREERS_REFERRER_FIELD: custom_attribute_1001 is also a field of the form file of"
        " account a (CAREERS_ACCOUNTS_FILE); choose another attribute or drop that field"
    ]
