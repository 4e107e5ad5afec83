"""CAREERS_* settings: defaults, derived values, and one clear line per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from careers.config import ConfigError, RateLimit, load_settings

BASE = {"CAREERS_PERSONIO_SUBDOMAIN": "acme", "CAREERS_SECRET_KEY": "s" * 32}


def test_defaults_and_derived_values():
    s = load_settings(BASE)
    assert s.personio_feed_url == "https://acme.jobs.personio.de/xml"
    assert s.personio_api_url == "https://api.personio.de"
    assert s.personio_rate_limit == RateLimit(20, 60)
    assert s.languages == ("en", "de") and s.default_language == "en"
    assert s.feed_ttl == 300
    assert s.data_dir == Path("./instance")
    assert s.database_url == "sqlite:///instance/careers.db"
    assert s.company_name == "acme"
    assert s.privacy_url == "https://acme.jobs.personio.de/privacy-policy"
    assert s.frame_ancestors == ()
    assert len(s.allowed_extensions) == 23
    assert (s.min_fill_seconds, s.submit_rate_limit) == (3, RateLimit(5, 600))
    assert s.read_only and s.personio_site_url == "https://acme.jobs.personio.de"


def test_feed_url_overrides_subdomain_and_sets_the_site_url():
    s = load_settings(
        {"CAREERS_PERSONIO_FEED_URL": "http://127.0.0.1:9999/xml/", "CAREERS_SECRET_KEY": "k" * 16}
    )
    assert s.personio_feed_url == "http://127.0.0.1:9999/xml"
    assert s.personio_site_url == "http://127.0.0.1:9999"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CAREERS_PERSONIO_SUBDOMAIN", "acme.jobs.personio.de", "account name only"),
        ("CAREERS_PERSONIO_FEED_URL", "ftp://x/xml", "http(s) URL"),
        ("CAREERS_PERSONIO_COMPANY_ID", "acme", "numeric company id"),
        ("CAREERS_PERSONIO_RATE_LIMIT", "20 per minute", "COUNT/SECONDS"),
        ("CAREERS_LANGUAGES", "en,jp", "comma list"),
        ("CAREERS_FEED_TTL", "0", "greater than 0"),
        ("CAREERS_FEED_TTL", "5m", "whole number"),
        ("CAREERS_DATABASE_URL", "mysql://x", "sqlite:///"),
        ("CAREERS_DATABASE_URL", "postgresql:///careers", "must name the server"),
        ("CAREERS_DATABASE_URL", "mysql://db/careers", "must look like sqlite"),
        ("CAREERS_FRAME_ANCESTORS", "www.acme.com", "not an origin"),
        ("CAREERS_ALLOWED_EXTENSIONS", "pdf,exe", "may only contain"),
        ("CAREERS_MIN_FILL_SECONDS", "-1", "not be negative"),
        ("CAREERS_SUBMIT_RATE_LIMIT", "0/600", "COUNT/SECONDS"),
        ("CAREERS_FORM_FILE", "/nonexistent/form.toml", "does not exist"),
        ("CAREERS_SECRET_KEY", "short", "at least 16"),
        ("CAREERS_CHANNELS", "linkedin", "is not name=id"),
        ("CAREERS_PERSONIO_RECRUITING_TOKEN", "tok-SECRET\nline2", "printable ASCII"),
        ("CAREERS_PERSONIO_RECRUITING_TOKEN", "tök", "printable ASCII"),
        ("CAREERS_CHANNELS", "linkedin=abc", "is not name=id"),
    ],
)
def test_each_bad_value_gives_one_line_naming_the_variable(name, value, message):
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, name: value})
    assert len(info.value.problems) == 1
    [line] = info.value.problems
    assert line.startswith(f"{name}: ") and message in line


def test_all_problems_are_reported_at_once():
    with pytest.raises(ConfigError) as info:
        load_settings({"CAREERS_FEED_TTL": "x", "CAREERS_LANGUAGES": "xx"})
    text = str(info.value)
    for name in (
        "CAREERS_PERSONIO_SUBDOMAIN",
        "CAREERS_FEED_TTL",
        "CAREERS_LANGUAGES",
        "CAREERS_SECRET_KEY",
    ):
        assert name in text


def test_credentials_come_in_pairs():
    with pytest.raises(ConfigError, match="CAREERS_PERSONIO_RECRUITING_TOKEN: required together"):
        load_settings({**BASE, "CAREERS_PERSONIO_COMPANY_ID": "123"})
    s = load_settings(
        {**BASE, "CAREERS_PERSONIO_COMPANY_ID": "123", "CAREERS_PERSONIO_RECRUITING_TOKEN": "tok"}
    )
    assert not s.read_only


def test_demo_makes_a_random_secret_but_production_requires_one():
    env = {"CAREERS_PERSONIO_SUBDOMAIN": "acme"}
    assert len(load_settings(env, demo=True).secret_key) >= 32
    with pytest.raises(ConfigError, match="CAREERS_SECRET_KEY: required"):
        load_settings(env)


def test_secrets_never_appear_in_repr():
    s = load_settings(
        {
            **BASE,
            "CAREERS_PERSONIO_COMPANY_ID": "1",
            "CAREERS_PERSONIO_RECRUITING_TOKEN": "tok-SECRET-123",
        }
    )
    assert "tok-SECRET-123" not in repr(s) and "s" * 32 not in repr(s)


def test_channels_and_remote_countries():
    s = load_settings(
        {
            **BASE,
            "CAREERS_CHANNELS": "LinkedIn=2001, stepstone = 2002",
            "CAREERS_REMOTE_COUNTRIES": "Germany, Austria",
        }
    )
    assert s.channels == {"linkedin": 2001, "stepstone": 2002}
    assert s.remote_countries == ("Germany", "Austria")


def test_languages_are_normalised_and_deduplicated():
    s = load_settings({**BASE, "CAREERS_LANGUAGES": " DE, en,de "})
    assert s.languages == ("de", "en") and s.default_language == "de"
