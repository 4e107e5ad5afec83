"""The funnel without cookies (issue 22 point 2, docs/funnel.md): views counted in memory as
they are answered and flushed in additive batches, submissions and deliveries counted by the
outbox once each, crawlers and prefetches not at all; `careers report`; the weekly mail.

The two-host version of the scripted visit is tests/test_funnel_hosts.py."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from careers.config import ConfigError, load_settings
from careers.db.database import open_database
from careers.jobs import funnel, funnel_report
from careers.jobs.funnel import LIST, Key, Step, Tally, is_crawler
from careers.mail.worker import MailWorker
from careers.store_errors import StoreUnavailable

from . import filegen
from .applying import JOB, Clock, deliver_all, send, token_of, valid_fields
from .mailing import SENDER, SITE
from .visiting import BROWSER, CRAWLERS, PHONE, attribution_of, stored

LINKEDIN = "?_pc=LinkedIn&utm_medium=social"


@pytest.fixture
def site(make_app, sandbox_server, tmp_path):
    from .applying import apply_env

    return make_app(**apply_env(sandbox_server.url, tmp_path), pay_transparency="off")


def services(app):
    return app.extensions["careers"]


def flushed(app) -> dict[tuple[int, str, str, str], int]:
    """Write the app's tally now (what the flusher does every few seconds), then read back."""
    services(app).tally.flush()
    return stored(services(app).storage.database.funnel)


def job_path(client, lang: str = "en") -> str:
    """The job's canonical page (the bare id answers 301 there)."""
    moved = client.get(f"/{lang}/jobs/{JOB}", headers={"User-Agent": BROWSER})
    assert moved.status_code == 301
    return moved.headers["Location"].split("?")[0]


def visit_and_apply(client, tmp_path, ua: str = BROWSER):
    """A person's visit from a LinkedIn link: the list, the job, the form, the application."""
    headers = {"User-Agent": ua}
    assert client.get(f"/en/jobs{LINKEDIN}", headers=headers).status_code == 200
    assert client.get(f"{job_path(client)}{LINKEDIN}", headers=headers).status_code == 200
    form = client.get(f"/en/jobs/{JOB}/apply{LINKEDIN}", headers=headers)
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = valid_fields(token_of(page), attribution=attribution_of(page))
    sent = send(client, fields, [("cv", cv, "cv.pdf", "application/pdf")], headers=headers)
    assert sent.status_code == 303, sent.get_data(as_text=True)[:500]


def test_a_visit_is_counted_once_per_step_under_its_channel_and_language(site, tmp_path):
    client = site.test_client()
    visit_and_apply(client, tmp_path)
    expected = {
        (LIST, "linkedin", "en", "list_view"): 1,
        (JOB, "linkedin", "en", "job_view"): 1,
        (JOB, "linkedin", "en", "form_opened"): 1,
        (JOB, "linkedin", "en", "submitted"): 1,
    }
    assert flushed(site) == expected
    assert deliver_all(site) == ["delivered"]
    assert flushed(site) == {**expected, (JOB, "linkedin", "en", "delivered"): 1}


def test_delivery_is_counted_once_even_when_marked_twice(site, tmp_path):
    visit_and_apply(site.test_client(), tmp_path)
    outbox = services(site).outbox
    [pending] = outbox.summaries()
    outbox.mark_delivered(pending.id)
    outbox.mark_delivered(pending.id)  # a second worker's late answer: the first stands
    assert flushed(site)[(JOB, "linkedin", "en", "delivered")] == 1


def test_a_form_sent_twice_is_submitted_once(site, tmp_path):
    client = site.test_client()
    page = client.get(f"/en/jobs/{JOB}/apply", headers={"User-Agent": BROWSER})
    cv = filegen.make_pdf(tmp_path / "cv.pdf")
    fields = valid_fields(token_of(page.get_data(as_text=True)))
    for _ in range(2):  # the same form, posted again (a double click, a reload)
        response = send(client, fields, [("cv", cv, "cv.pdf", "application/pdf")])
        assert response.status_code == 303
    assert flushed(site)[(JOB, "", "en", "submitted")] == 1


@pytest.mark.parametrize("ua", CRAWLERS)
def test_a_crawler_is_not_counted_at_all(site, ua):
    client = site.test_client()
    headers = {"User-Agent": ua}
    assert client.get(f"/en/jobs{LINKEDIN}", headers=headers).status_code == 200
    assert client.get(job_path(client), headers=headers).status_code == 200
    assert client.get(f"/en/jobs/{JOB}/apply", headers=headers).status_code == 200
    assert services(site).tally.pending() == {}
    assert flushed(site) == {}


def test_head_prefetch_redirects_revalidations_and_errors_are_not_views(site):
    client = site.test_client()
    person = {"User-Agent": BROWSER}
    path = job_path(client)  # a 301: not counted either
    assert client.head(path, headers=person).status_code == 200
    for prefetch in (
        {"Sec-Purpose": "prefetch"},
        {"Sec-Purpose": "prefetch;prerender"},
        {"Purpose": "prefetch"},
        {"X-Purpose": "preview"},
        {"X-Moz": "prefetch"},
    ):
        assert client.get(path, headers={**person, **prefetch}).status_code == 200
    assert client.get("/en/jobs/999999-gone", headers=person).status_code == 404
    first = client.get(path, headers=person)  # the one view
    again = client.get(path, headers={**person, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert flushed(site) == {(JOB, "", "en", "job_view"): 1}


def test_pages_answered_from_memory_are_counted_like_rendered_ones(site):
    """The second request of the same URL is the fast path's replay (web/fastpath.py)."""
    client = site.test_client()
    for lang, ua in (("en", BROWSER), ("en", PHONE), ("de", BROWSER)):
        assert (
            client.get(
                f"/{lang}/jobs?utm_source=Newsletter", headers={"User-Agent": ua}
            ).status_code
            == 200
        )
    assert flushed(site) == {
        (LIST, "newsletter", "en", "list_view"): 2,
        (LIST, "newsletter", "de", "list_view"): 1,
    }


def test_the_widget_counts_like_the_site(site):
    client = site.test_client()
    assert client.get("/embed/en/jobs?_pc=2001", headers={"User-Agent": BROWSER}).status_code == 200
    assert (
        client.get(
            f"/embed/en/jobs/{JOB}/apply?_pc=2001", headers={"User-Agent": BROWSER}
        ).status_code
        == 200
    )
    assert flushed(site) == {
        (LIST, "2001", "en", "list_view"): 1,
        (JOB, "2001", "en", "form_opened"): 1,
    }


def test_counting_waits_for_no_database_and_keeps_counts_it_could_not_write(site):
    """The request only counts in memory; a flush while the database is away keeps the
    counts for the next one."""

    class Away:
        def add(self, deltas):
            raise StoreUnavailable("outbox database unavailable: test")

        def totals(self, since, until):
            raise AssertionError("not read")

    real = services(site).storage.database.funnel
    tally = Tally(Away())
    services(site).tally = tally
    try:
        app_counting = site.wsgi_app
        while not hasattr(app_counting, "tally"):
            app_counting = app_counting.app
        app_counting.tally = tally
        client = site.test_client()
        assert client.get("/en/jobs", headers={"User-Agent": BROWSER}).status_code == 200
        assert tally.flush() == 0  # refused: kept
        day = datetime.now(UTC).date().isoformat()
        assert tally.pending() == {Key(day, LIST, "", "en", Step.LIST_VIEW): 1}
        tally.store = real
        assert tally.flush() == 1
        assert tally.pending() == {}
        assert stored(real) == {(LIST, "", "en", "list_view"): 1}
    finally:
        tally.stop()


def test_additive_flushes_from_two_tallies_add_up(site):
    """Two processes (or hosts) flush their own deltas; neither overwrites the other."""
    store = services(site).storage.database.funnel
    first, second = Tally(store), Tally(store)
    try:
        for tally, times in ((first, 3), (second, 2), (first, 1)):
            for _ in range(times):
                tally.count(Step.JOB_VIEW, JOB, "xing", "de")
            tally.flush()
    finally:
        first.stop()
        second.stop()
    assert stored(store) == {(JOB, "xing", "de", "job_view"): 6}


def test_made_up_channels_cannot_grow_the_table_without_bound():
    class Memory:
        def __init__(self):
            self.added = {}

        def add(self, deltas):
            for key, n in deltas.items():
                self.added[key] = self.added.get(key, 0) + n

        def totals(self, since, until):
            return []

    memory = Memory()
    tally = Tally(memory, clock=lambda: 1_800_000_000.0)
    try:
        for i in range(funnel.CHANNELS_PER_DAY + 50):
            tally.count(Step.LIST_VIEW, LIST, f"spam{i}", "en")
        tally.flush()
    finally:
        tally.stop()
    channels = {key.channel for key in memory.added}
    assert len(channels) == funnel.CHANNELS_PER_DAY + 1
    assert sum(n for key, n in memory.added.items() if key.channel == funnel.OTHER) == 50


def test_the_crawler_list_leaves_browsers_alone():
    for ua in (
        BROWSER,
        PHONE,
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36"
        " (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    ):
        assert not is_crawler(ua)
    for ua in CRAWLERS:
        assert is_crawler(ua), ua


def test_channels_are_read_from_pc_then_utm_source():
    assert funnel.channel_of({"_pc": "LinkedIn", "utm_source": "x"}) == "linkedin"
    assert funnel.channel_of({"utm_source": "Newsletter", "utm_medium": "email"}) == "newsletter"
    assert funnel.channel_of({"utm_medium": "email"}) == ""
    assert funnel.channel_of({"_pc": "a" * 100}) == "a" * funnel.CHANNEL_CHARS


def test_a_channel_that_carries_an_email_address_is_counted_as_other():
    """Newsletter tools put the subscriber's address into `utm_source`: never a counter's."""
    assert funnel.channel_of({"utm_source": "Jane.Doe@example.com"}) == funnel.OTHER
    assert funnel.channel_of({"_pc": "x@y"}) == funnel.OTHER
    assert "@" not in funnel.channel_of({"_pc": "linked\uff20in"})


def test_the_counters_hold_no_personal_data(site, tmp_path):
    visit_and_apply(site.test_client(), tmp_path)
    deliver_all(site)
    services(site).tally.flush()
    database = services(site).storage.database
    import sqlite3

    path = services(site).settings.database_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    try:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(funnel_counts)")]
        rows = conn.execute("SELECT * FROM funnel_counts").fetchall()
    finally:
        conn.close()
    assert columns == ["day", "position_id", "channel", "language", "step", "n"]
    text = repr(rows)
    for personal in ("juergen", "Müller", "example.com", "127.0.0.1", "Firefox", "Mozilla", "+49"):
        assert personal.lower() not in text.lower()
    assert {row[4] for row in rows} == {
        "list_view",
        "job_view",
        "form_opened",
        "submitted",
        "delivered",
    }
    assert database.dialect == "sqlite"


# -- careers report ------------------------------------------------------------------------


def counted_site(site) -> None:
    """Counts as a week of visits leaves them: two channels for the job, the list, and a
    job the site never saw. The site has fetched its board (so it knows the job's title)."""
    assert site.test_client().get("/en/jobs", headers={"User-Agent": "curl/8"}).status_code == 200
    services(site).catalogue.wait_idle()  # the positions it saw are on disk
    day = datetime.now(UTC).date().isoformat()
    services(site).storage.database.funnel.add(
        {
            Key(day, LIST, "linkedin", "en", Step.LIST_VIEW): 120,
            Key(day, JOB, "linkedin", "en", Step.JOB_VIEW): 40,
            Key(day, JOB, "linkedin", "en", Step.FORM_OPENED): 10,
            Key(day, JOB, "linkedin", "en", Step.SUBMITTED): 4,
            Key(day, JOB, "linkedin", "en", Step.DELIVERED): 3,
            Key(day, JOB, "", "de", Step.JOB_VIEW): 8,
            Key(day, 4242, "xing", "en", Step.JOB_VIEW): 5,
        }
    )


def test_report_prints_the_funnel_with_rates(site, runner):
    counted_site(site)
    env = {"CAREERS_DATA_DIR": services(site).settings.data_dir.as_posix()}
    result = runner.invoke(["report"], env=env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("funnel ") and "(UTC days, both included)" in lines[0]
    assert lines[1].split()[:3] == ["job", "channel", "lang"]
    row = next(line for line in lines if line.startswith(f"{JOB} ") and "linkedin" in line)
    assert "Embedded Systems Engineer" in row  # the title this host saw
    assert row.split()[-8:] == ["40", "10", "4", "3", "25.0%", "40.0%", "10.0%", "75.0%"]
    listed = next(line for line in lines if line.startswith("(job list)"))
    assert listed.split()[3:6] == ["en", "120", "0"]
    total = lines[-1].split()
    assert total[0] == "total" and total[1:6] == ["120", "53", "10", "4", "3"]


def test_report_csv_parses_back(site, runner):
    counted_site(site)
    env = {"CAREERS_DATA_DIR": services(site).settings.data_dir.as_posix()}
    result = runner.invoke(
        ["report", "--csv", "--since", datetime.now(UTC).date().isoformat()], env=env
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0]) == list(funnel_report.CSV_COLUMNS)
    by_key = {(r["position_id"], r["channel"], r["language"]): r for r in rows}
    linkedin = by_key[(str(JOB), "linkedin", "en")]
    assert linkedin["title"] == "Embedded Systems Engineer (m/f/d)"
    assert [linkedin[str(step)] for step in Step] == ["0", "40", "10", "4", "3"]
    assert (linkedin["form_rate"], linkedin["submit_rate"]) == ("0.2500", "0.4000")
    assert (linkedin["view_to_submit_rate"], linkedin["delivered_rate"]) == ("0.1000", "0.7500")
    direct = by_key[(str(JOB), "", "de")]
    assert direct["job_view"] == "8" and direct["form_rate"] == "0.0000"
    assert direct["delivered_rate"] == ""  # nothing submitted: no rate
    unknown = by_key[("4242", "xing", "en")]
    assert unknown["title"] == ""  # a job this host never saw
    assert by_key[("0", "linkedin", "en")]["list_view"] == "120"


def test_report_csv_keeps_spreadsheets_from_running_a_channel_as_a_formula(site, runner):
    day = datetime.now(UTC).date().isoformat()
    channel = funnel.channel_of({"_pc": "+1+cmd|x"})  # what a made-up link can carry
    services(site).storage.database.funnel.add({Key(day, JOB, channel, "en", Step.JOB_VIEW): 1})
    env = {"CAREERS_DATA_DIR": services(site).settings.data_dir.as_posix()}
    result = runner.invoke(["report", "--csv"], env=env)
    [row] = csv.DictReader(io.StringIO(result.output))
    assert row["channel"] == "'+1+cmdx"


def test_report_since_leaves_out_older_days(site, runner):
    old = (datetime.now(UTC).date() - timedelta(days=40)).isoformat()
    services(site).storage.database.funnel.add({Key(old, JOB, "", "en", Step.JOB_VIEW): 7})
    env = {"CAREERS_DATA_DIR": services(site).settings.data_dir.as_posix()}
    recent = runner.invoke(["report", "--csv"], env=env)  # the last 28 days by default
    assert recent.exit_code == 0 and recent.output.splitlines()[1:] == []
    wide = runner.invoke(["report", "--csv", "--since", old], env=env)
    assert [r["job_view"] for r in csv.DictReader(io.StringIO(wide.output))] == ["7"]


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("yesterday", "'yesterday' is not a date; write it as YYYY-MM-DD"),
        ("2026-02-30", "'2026-02-30' is not a date"),
        ("20261201", "'20261201' is not a date"),
        ("2999-01-01", "2999-01-01 is in the future"),
    ],
)
def test_report_refuses_a_bad_since_clearly(since, message, runner, tmp_path):
    data_dir = tmp_path / "untouched"
    result = runner.invoke(["report", "--since", since], env={"CAREERS_DATA_DIR": str(data_dir)})
    assert result.exit_code == 2
    assert "--since" in result.output and message in result.output
    assert not data_dir.exists()  # refused before anything was opened


def test_report_on_an_empty_database_says_so(runner, tmp_path):
    result = runner.invoke(["report"], env={"CAREERS_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "nothing counted in these days"


# -- the weekly mail -----------------------------------------------------------------------

RECRUITERS = "recruiting@nordlicht.example, lead@nordlicht.example"


@pytest.fixture
def report_app(make_app, sandbox_server, tmp_path, catcher):
    from .applying import apply_env

    return make_app(
        **apply_env(sandbox_server.url, tmp_path),
        smtp_url=catcher.smtp_url,
        mail_from=SENDER,
        public_url=SITE,
        report_email=RECRUITERS,
        languages="de,en",
        pay_transparency="off",
    )


@pytest.fixture
def report_harness(report_app, clock):
    from .mailing import Harness

    made = Harness(report_app, clock)
    yield made
    made.close()


def last_week_counts(harness) -> None:
    """Last week's visits (and some of the weeks around it, which the mail leaves out)."""
    _, monday, _ = funnel_report.previous_week(harness.clock())
    wednesday, sunday = monday + timedelta(days=2), monday + timedelta(days=6)
    counts = {
        (wednesday, LIST, "linkedin", Step.LIST_VIEW): 100,
        (wednesday, JOB, "linkedin", Step.JOB_VIEW): 40,
        (wednesday, JOB, "linkedin", Step.FORM_OPENED): 10,
        (sunday, JOB, "linkedin", Step.SUBMITTED): 4,
        (sunday, JOB, "linkedin", Step.DELIVERED): 4,
        (wednesday, JOB, "", Step.JOB_VIEW): 10,
        (wednesday, JOB, "", Step.FORM_OPENED): 2,
        (wednesday, JOB, "", Step.SUBMITTED): 1,
        (monday - timedelta(days=1), JOB, "", Step.JOB_VIEW): 1000,  # the week before
        (sunday + timedelta(days=1), JOB, "", Step.JOB_VIEW): 1000,  # this week
    }
    harness.database.funnel.add(
        {
            Key(day.isoformat(), job, channel, "de", step): n
            for (day, job, channel, step), n in counts.items()
        }
    )


def test_the_weekly_mail_reaches_the_recruiters_once_with_bars_and_numbers(
    report_harness, catcher, report_app
):
    last_week_counts(report_harness)
    assert "sent" in report_harness.drain()
    [mail] = catcher.messages()
    assert set(mail.rcpt_to) == {"recruiting@nordlicht.example", "lead@nordlicht.example"}
    # The site's default language, in its form of address (CAREERS_ADDRESS: formal here).
    assert mail.subject.startswith("Ihre Karriereseite vom ")
    assert "Sie erhalten diese E-Mail, weil Ihre Adresse in CAREERS_REPORT_EMAIL steht" in mail.text
    html, text = mail.html, mail.text
    # Each job's funnel as bars: widths relative to its page views (50 = 100 %).
    widths = re.findall(r'data-bar="(\d)" style="width:(\d+)%', html)
    assert widths == [("1", "100"), ("2", "24"), ("3", "10"), ("4", "8")]
    assert "<img" not in html and "src=" not in html and "url(" not in html
    assert set(re.findall(r'https?://[^"\s<]+', html)) <= {f"{SITE}/de/jobs"}
    # The text part keeps the numbers.
    assert "Aufrufe der Stellenseite: 50" in text
    assert "Formulare geöffnet: 12 (24%)" in text
    assert "Bewerbungen gesendet: 5 (10%)" in text
    assert "An Personio übermittelt: 4 (8%)" in text
    assert "linkedin: 40 / 10 / 4 / 4" in text
    assert "Direkt (ohne Kanal): 10 / 2 / 1 / 0" in text
    assert "Aufrufe der Stellenliste" in text and "linkedin: 100" in text
    assert "Embedded Systems Engineer" in text and "1000" not in text

    # Once: the same worker's next turn, and another host's worker, queue nothing more.
    assert report_harness.later(2 * 3600) == []
    other = open_database(services(report_app).settings.database_url, clock=report_harness.clock)
    try:
        second = MailWorker(
            services(report_app).settings,
            other.mail,
            other.outbox,
            services(report_app).catalogue,
            funnel=other.funnel,
            clock=report_harness.clock,
        )
        assert second.weekly_report() is False
    finally:
        other.close()
    assert len(catcher.messages()) == 1


def test_the_weekly_mail_speaks_as_the_site_does(make_app, sandbox_server, tmp_path, catcher):
    from .applying import apply_env
    from .mailing import Harness

    app = make_app(
        **apply_env(sandbox_server.url, tmp_path),
        smtp_url=catcher.smtp_url,
        mail_from=SENDER,
        public_url=SITE,
        report_email="recruiting@nordlicht.example",
        languages="de,en",
        address="informal",
        pay_transparency="off",
    )
    harness = Harness(app, Clock())
    try:
        last_week_counts(harness)
        assert "sent" in harness.drain()
    finally:
        harness.close()
    [mail] = catcher.messages()
    assert mail.subject.startswith("Deine Karriereseite vom ")
    assert "Du erhältst diese E-Mail, weil deine Adresse" in mail.text


def test_a_week_without_visits_sends_no_mail(report_harness, catcher):
    assert report_harness.drain() == []
    assert report_harness.worker.weekly_report() is False
    assert catcher.messages() == []


def test_next_week_brings_the_next_mail(report_harness, catcher):
    last_week_counts(report_harness)
    report_harness.drain()
    report_harness.clock.advance(7 * 86400)  # a week on: "this week" above is last week now
    assert "sent" in report_harness.later(3600)
    assert len(catcher.messages()) == 2
    assert "Aufrufe der Stellenseite: 1000" in catcher.messages()[-1].text


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("not-an-address", "CAREERS_REPORT_EMAIL"),
        ("a@example.com,,b@", "CAREERS_REPORT_EMAIL"),
    ],
)
def test_a_bad_report_address_stops_start_up_in_one_line(value, problem):
    env = {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": "x" * 32,
        "CAREERS_SMTP_URL": "smtp://127.0.0.1:2525",
        "CAREERS_MAIL_FROM": SENDER,
        "CAREERS_PUBLIC_URL": SITE,
        "CAREERS_REPORT_EMAIL": value,
    }
    with pytest.raises(ConfigError) as refused:
        load_settings(env)
    [line] = refused.value.problems
    assert line.startswith(problem)


def test_the_report_mail_needs_a_mail_server():
    env = {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": "x" * 32,
        "CAREERS_REPORT_EMAIL": "recruiting@nordlicht.example",
    }
    with pytest.raises(ConfigError) as refused:
        load_settings(env)
    assert refused.value.problems == [
        "CAREERS_SMTP_URL: required to send CAREERS_REPORT_EMAIL mails"
    ]
