"""CAREERS_* settings: defaults, derived values, and one clear line per bad value."""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

import pytest

from careers.config import (
    PREFIX,
    SECRETS,
    VARIABLES,
    ConfigError,
    Settings,
    load_settings,
    load_storage_settings,
)
from careers.envfile import parse_env
from careers.ratelimit import RateLimit

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
    "account", ["acm", "acme-robotics", "a1-b2-c3", "x" * 40, "ACME-Robotics", "4know"]
)
def test_subdomain_takes_personios_current_hostnames(account):
    """3-40 letters, digits and dashes (docs/personio.md, "Hosts"), shown in lower case."""
    s = load_settings({**BASE, "CAREERS_PERSONIO_SUBDOMAIN": account})
    assert s.personio_subdomain == account.lower()
    assert s.personio_feed_url == f"https://{account.lower()}.jobs.personio.de/xml"


@pytest.mark.parametrize("account", ["ac", "x" * 41, "-acme", "acme-", "ac_me", "acmé"])
def test_subdomain_refuses_what_no_personio_hostname_is(account):
    with pytest.raises(ConfigError) as err:
        load_settings({**BASE, "CAREERS_PERSONIO_SUBDOMAIN": account})
    assert err.value.problems == [
        "CAREERS_PERSONIO_SUBDOMAIN: must be the account name only (3-40 letters, digits and"
        " dashes, no dash first or last), e.g. 'acme' for acme.jobs.personio.de"
    ]


def test_the_com_domain_names_the_feed_the_privacy_policy_and_the_apply_links():
    s = load_settings({**BASE, "CAREERS_PERSONIO_DOMAIN": "jobs.personio.com"})
    assert s.personio_feed_url == "https://acme.jobs.personio.com/xml"
    assert s.privacy_url == "https://acme.jobs.personio.com/privacy-policy"
    assert s.personio_site_url == "https://acme.jobs.personio.com"
    # A feed URL of its own wins over both, as before.
    own = load_settings(
        {**BASE, "CAREERS_PERSONIO_DOMAIN": "jobs.personio.com",
         "CAREERS_PERSONIO_FEED_URL": "https://acme.jobs.personio.de/xml"}
    )  # fmt: skip
    assert own.personio_feed_url == "https://acme.jobs.personio.de/xml"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CAREERS_PERSONIO_SUBDOMAIN", "acme.jobs.personio.de", "account name only"),
        ("CAREERS_PERSONIO_DOMAIN", "personio.com", "jobs.personio.de, jobs.personio.com"),
        ("CAREERS_PERSONIO_DOMAIN", "acme.jobs.personio.com", "must be one of"),
        ("CAREERS_PERSONIO_FEED_URL", "ftp://x/xml", "http(s) URL"),
        ("CAREERS_PERSONIO_COMPANY_ID", "acme", "numeric company id"),
        ("CAREERS_PERSONIO_RATE_LIMIT", "20 per minute", "COUNT/SECONDS"),
        ("CAREERS_LANGUAGES", "en,jp", "comma list"),
        ("CAREERS_FEED_TTL", "0", "greater than 0"),
        ("CAREERS_FEED_TTL", "5m", "whole number"),
        ("CAREERS_DATABASE_URL", "mysql://x", "sqlite:///"),
        ("CAREERS_DATABASE_URL", "postgresql:///careers", "must name the server"),
        ("CAREERS_DATABASE_URL", "mysql://db/careers", "must look like sqlite"),
        # libpq's own words quote the password: refused here in ours, before any command runs.
        ("CAREERS_DATABASE_URL", "postgresql://c:s%ZZcret@db/careers", "not a URL libpq can"),
        ("CAREERS_FRAME_ANCESTORS", "www.acme.com", "not an origin"),
        ("CAREERS_ALLOWED_EXTENSIONS", "pdf,exe", "may only contain"),
        ("CAREERS_MIN_FILL_SECONDS", "-1", "not be negative"),
        ("CAREERS_SUBMIT_RATE_LIMIT", "0/600", "COUNT/SECONDS"),
        ("CAREERS_FORM_FILE", "/nonexistent/form.toml", "does not exist"),
        ("CAREERS_SECRET_KEY", "short", "at least 16"),
        ("CAREERS_CHANNELS", "linkedin", "is not name=id"),
        ("CAREERS_PERSONIO_RECRUITING_TOKEN", "tok-SECRET\nline2", "contains whitespace"),
        ("CAREERS_PERSONIO_RECRUITING_TOKEN", "tök", "printable ASCII"),
        ("CAREERS_CHANNELS", "linkedin=abc", "is not name=id"),
        ("CAREERS_MIGRATE_ON_START", "maybe", "is not true or false (also 1/0, yes/no, on/off)"),
        ("CAREERS_ADDRESS", "du", "must be formal or informal, not 'du'"),
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


V2 = {"CAREERS_PERSONIO_CLIENT_ID": "papi-client-1", "CAREERS_PERSONIO_CLIENT_SECRET": "s3cr3t-x"}
V1 = {"CAREERS_PERSONIO_COMPANY_ID": "123", "CAREERS_PERSONIO_RECRUITING_TOKEN": "tok"}


def test_an_oauth_client_takes_applications_through_v2_and_wins_over_the_v1_key():
    assert load_settings({**BASE, **V2}).personio_api_version == 2
    assert not load_settings({**BASE, **V2}).read_only
    both = load_settings({**BASE, **V1, **V2})
    assert both.personio_api_version == 2 and not both.read_only
    assert load_settings({**BASE, **V1}).personio_api_version == 1


@pytest.mark.parametrize("given", sorted(V2))
def test_the_oauth_client_needs_its_id_and_secret(given):
    other = next(name for name in V2 if name != given)
    with pytest.raises(ConfigError) as err:
        load_settings({**BASE, given: V2[given]})
    assert err.value.problems == [f"{other}: required together with {given} (set both, or neither)"]


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


@pytest.mark.parametrize(("value", "code"), [("de", "DE"), (" GB ", "GB"), ("at", "AT")])
def test_default_country_is_an_iso_code(value, code):
    assert load_settings({**BASE, "CAREERS_DEFAULT_COUNTRY": value}).default_country == code
    assert load_settings(BASE).default_country == ""


@pytest.mark.parametrize("value", ["Germany", "DEU", "EU", "ZZ", "QQ", "D"])
def test_default_country_refuses_anything_else(value):
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "CAREERS_DEFAULT_COUNTRY": value})
    assert caught.value.problems == [
        f"CAREERS_DEFAULT_COUNTRY: must be an ISO 3166-1 alpha-2 country code such as DE or GB,"
        f" not {value!r}"
    ]


def test_languages_are_normalised_and_deduplicated():
    s = load_settings({**BASE, "CAREERS_LANGUAGES": " DE, en,de "})
    assert s.languages == ("de", "en") and s.default_language == "de"


MAIL = {
    **BASE,
    "CAREERS_SMTP_URL": "smtp://jobs:s%40cret@mail.acme.com:587",
    "CAREERS_MAIL_FROM": "Acme Careers <jobs@acme.com>",
    "CAREERS_PUBLIC_URL": "https://jobs.acme.com",
}


def test_mail_is_off_by_default_and_on_with_a_server():
    plain = load_settings(BASE)
    assert not plain.mail_enabled and not plain.alerts_enabled
    assert (plain.alert_interval, plain.alert_feed_after, plain.alert_backlog_after) == (
        3600,
        1800,
        3600,
    )
    s = load_settings({**MAIL, "CAREERS_ALERT_EMAIL": "ops@acme.com, Hr@Acme.com,ops@acme.com"})
    assert s.mail_enabled and s.alerts_enabled
    assert s.mail_from == "Acme Careers <jobs@acme.com>"
    assert s.alert_emails == ("ops@acme.com", "Hr@acme.com")  # the domain is case-free
    assert "s%40cret" not in repr(s) and "mail.acme.com" not in repr(s)
    hook = load_settings({**BASE, "CAREERS_ALERT_WEBHOOK_URL": "https://hooks.acme.com/careers"})
    assert hook.alerts_enabled and not hook.mail_enabled


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"CAREERS_SMTP_URL": "mail.acme.com:25"}, "CAREERS_SMTP_URL: must look like smtp://"),
        ({"CAREERS_SMTP_URL": "smtp://mail.acme.com:twenty"}, "CAREERS_SMTP_URL: has a port"),
        ({"CAREERS_MAIL_FROM": ""}, "CAREERS_MAIL_FROM: required with CAREERS_SMTP_URL"),
        ({"CAREERS_MAIL_FROM": "Acme <jobs at acme>"}, "CAREERS_MAIL_FROM: 'jobs at acme'"),
        ({"CAREERS_PUBLIC_URL": ""}, "CAREERS_PUBLIC_URL: required with CAREERS_SMTP_URL"),
        ({"CAREERS_ALERT_EMAIL": "ops@acme.com,nobody"}, "CAREERS_ALERT_EMAIL: 'nobody'"),
        ({"CAREERS_ALERT_INTERVAL": "0"}, "CAREERS_ALERT_INTERVAL: must be greater than 0"),
        ({"CAREERS_ALERT_WEBHOOK_URL": "ftp://x"}, "CAREERS_ALERT_WEBHOOK_URL: must be an http"),
    ],
)
def test_bad_mail_settings_give_one_line_each(change, message):
    with pytest.raises(ConfigError) as caught:
        load_settings({**MAIL, **change})
    assert any(p.startswith(message) for p in caught.value.problems), caught.value.problems


def test_alert_mail_needs_a_mail_server():
    with pytest.raises(ConfigError) as caught:
        load_settings({**BASE, "CAREERS_ALERT_EMAIL": "ops@acme.com"})
    assert caught.value.problems == ["CAREERS_SMTP_URL: required to send CAREERS_ALERT_EMAIL mails"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", True), ("true", True), ("1", True), ("YES", True), ("on", True)]
    + [("false", False), ("0", False), ("No", False), ("off", False)],
)
def test_migrating_at_start_is_on_unless_turned_off(value, expected):
    env = {**BASE, "CAREERS_MIGRATE_ON_START": value}
    assert load_settings(env).migrate_on_start is expected
    assert load_settings(env).storage.migrate_on_start is expected
    assert load_storage_settings(env).migrate_on_start is expected


# The settings table of docs/operations.md: variable name (without the prefix) → default column.
TABLE = dict(
    re.findall(
        r"^\| `CAREERS_(\w+)` \| ([^|]*) \|",
        (Path(__file__).parents[1] / "docs" / "operations.md").read_text("utf-8"),
        re.MULTILINE,
    )
)


def test_the_operations_table_documents_exactly_the_declared_settings():
    assert sorted(TABLE) == sorted(VARIABLES)


def test_a_default_the_table_shows_is_the_declared_one():
    """Where the table shows a literal default (`300`, `en,de`), it reads as the default."""
    shown = {
        name: m[1] for name, cell in TABLE.items() if (m := re.fullmatch(r"`([^`<>]+)`", cell))
    }
    assert len(shown) >= 10  # the pattern still finds them
    for name, text in shown.items():
        _, declared = VARIABLES[name]
        assert declared.parse(text) == declared.default, name


def test_every_field_but_the_form_is_a_declared_setting():
    declared = {attribute for attribute, _ in VARIABLES.values()}
    assert {f.name for f in fields(Settings)} - declared == {"form"}
    assert VARIABLES["ALERT_EMAIL"][0] == "alert_emails"  # the one named apart from its field


SECRET_VALUES = {
    "PERSONIO_RECRUITING_TOKEN": "tok-SECRET-123",
    "PERSONIO_CLIENT_ID": "client-SECRET-1",
    "PERSONIO_CLIENT_SECRET": "cs-SECRET-123",
    "SECRET_KEY": "k-SECRET-0123456789",
    "METRICS_TOKEN": "m-SECRET-0123456789",
    "DATABASE_URL": "postgresql://careers:pw-SECRET@db.acme.internal/careers",
    "SMTP_URL": "smtp://jobs:pw-SECRET@mail.acme.com:587",
}


def test_every_secret_is_hidden_from_repr():
    assert SECRETS == {VARIABLES[name][0] for name in SECRET_VALUES}
    env = {**BASE, **MAIL, **CREDENTIALS}
    env.update({PREFIX + name: value for name, value in SECRET_VALUES.items()})
    settings = load_settings(env)
    assert settings.smtp_url == SECRET_VALUES["SMTP_URL"]  # read, and only hidden when shown
    for shown in (repr(settings), str(settings), repr(settings.storage)):
        assert "SECRET" not in shown and "'***'" in shown
    assert "'database_url': '***'" in repr(load_storage_settings(env))


# -- the traps of a first installation (issue 17) ----------------------------------------------

SANDBOX_FEED = {
    "CAREERS_PERSONIO_FEED_URL": "http://127.0.0.1:9999/xml",
    "CAREERS_SECRET_KEY": "k" * 16,
}
CREDENTIALS = {"CAREERS_PERSONIO_COMPANY_ID": "123", "CAREERS_PERSONIO_RECRUITING_TOKEN": "tok"}
SMTP = {
    "CAREERS_SMTP_URL": "smtp://mail.acme.com:587",
    "CAREERS_MAIL_FROM": "jobs@acme.com",
    "CAREERS_PUBLIC_URL": "https://jobs.acme.com",
}


@pytest.mark.parametrize(
    ("collects", "named"),
    [(CREDENTIALS, "to take applications"), (SMTP, "to take job alerts")],
)
def test_a_site_that_collects_data_needs_a_privacy_policy(collects, named):
    with pytest.raises(ConfigError) as caught:
        load_settings({**SANDBOX_FEED, **collects})
    [line] = caught.value.problems
    assert line.startswith(f"CAREERS_PRIVACY_URL: required {named}")
    given = load_settings(
        {**SANDBOX_FEED, **collects, "CAREERS_PRIVACY_URL": "https://a.example/p"}
    )
    assert given.privacy_url == "https://a.example/p"


def test_a_read_only_board_collects_nothing_and_needs_no_policy():
    assert load_settings(SANDBOX_FEED).privacy_url == ""


@pytest.mark.parametrize(
    ("env", "policy"),
    [
        ({"CAREERS_PERSONIO_SUBDOMAIN": "acme"}, "https://acme.jobs.personio.de/privacy-policy"),
        (
            {"CAREERS_PERSONIO_FEED_URL": "https://acme.jobs.personio.com/xml"},
            "https://acme.jobs.personio.com/privacy-policy",
        ),
    ],
)
def test_the_policy_of_a_personio_account_is_derived(env, policy):
    s = load_settings({**env, **CREDENTIALS, "CAREERS_SECRET_KEY": "k" * 16})
    assert s.privacy_url == policy and not s.company_named_after_host


def test_a_site_named_after_its_feed_host_is_told_apart():
    assert load_settings(SANDBOX_FEED).company_named_after_host
    named = load_settings({**SANDBOX_FEED, "CAREERS_COMPANY_NAME": "Acme GmbH"})
    assert not named.company_named_after_host


# What docs/deployment.md's sample used to produce: systemd keeps a comment after a value.
COMMENTED = "...             # openssl rand -hex 32; keep it: it signs receipts and forms"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CAREERS_SECRET_KEY", COMMENTED, "contains whitespace"),
        ("CAREERS_SECRET_KEY", "...", "the docs' placeholder '...'"),
        ("CAREERS_SECRET_KEY", "change-me", "the docs' placeholder"),
        ("CAREERS_SECRET_KEY", "$(openssl rand -hex 32)", "contains whitespace"),
        ("CAREERS_SECRET_KEY", "0123456789abcdef#keep-it", "contains '#'"),
        ("CAREERS_PERSONIO_RECRUITING_TOKEN", "...", "the docs' placeholder"),
        ("CAREERS_PERSONIO_RECRUITING_TOKEN", "papi-0123#token", "contains '#'"),
        ("CAREERS_METRICS_TOKEN", COMMENTED, "contains whitespace"),
        ("CAREERS_METRICS_TOKEN", "...", "the docs' placeholder"),
        ("CAREERS_DATABASE_URL", "postgresql://c:pw@db/careers # shared", "contains whitespace"),
        ("CAREERS_SMTP_URL", "smtp://u:pw@mail.acme.com # relay", "contains whitespace"),
        ("CAREERS_PRIVACY_URL", "https://acme.com/privacy   # legal", "contains whitespace"),
    ],
)
def test_secrets_with_a_comment_or_a_placeholder_are_refused(name, value, message):
    env = {**BASE, **CREDENTIALS, **SMTP, name: value}
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    [line] = caught.value.problems  # one line: no "required" besides the refusal
    assert line.startswith(f"{name}: ") and message in line
    assert "openssl rand -hex 32; keep it" not in line  # never echoes the secret back


# -- systemd's EnvironmentFile format (careers --env-file) -------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("A=b # c\n", "b # c"),  # systemd keeps a comment after a value
        ("A=  b c  \n", "b c"),
        ("A=b\r\n", "b"),
        ('A="b" c\n', "bc"),  # quoted and unquoted parts run together
        ('A=x "y"\n', 'x "y"'),  # a quote inside an unquoted value is a character
        ("A='it''s'\n", "its"),
        ("A='a \\ \"b\"'\n", 'a \\ "b"'),  # nothing is special inside single quotes
        ('A="a\\"b\\\\c\\nd\\$"\n', 'a"b\\c\\nd$'),  # the shell's four escapes
        ("A=one\\\ntwo\n", "onetwo"),  # a continued line
        ('A="multi\nline"\n', "multi\nline"),
        ("A=trail\\ \n", "trail "),  # an escaped space is kept
        ("A=\n", ""),
        ("  A = b\n", "b"),
        ("# A=not this\n; A=nor this\nA=this", "this"),
        ("# a comment ending in a backslash \\\nA=this\n", "this"),
        ("A=first\nA=last\n", "last"),
    ],
)
def test_environment_files_read_as_systemd_reads_them(text, value):
    assert parse_env(text) == {"A": value}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("A=1\nB\n", "line 2: not NAME=VALUE"),
        ("export A=1\n", "line 1: 'export A' is not a variable name (no `export`"),
        ("1A=b\n", "line 1: '1A' is not a variable name"),
        ("A=1\nB='open\nC=3\n", "line 2: the ' quote is never closed"),
        ('A=1\n\nB="open\n', 'line 3: the " quote is never closed'),
    ],
)
def test_a_malformed_environment_file_names_the_line(text, message):
    with pytest.raises(ValueError) as caught:
        parse_env(text)
    assert str(caught.value).startswith(message)
