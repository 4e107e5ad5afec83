"""Pay transparency (careers/jobs/pay.py, docs/operations.md#pay-transparency): salary on
every surface, the filter and sort, the EU and Austrian checks in `careers check`, /readyz
and the daily operator mail, and the refusal of a form file that asks for pay history.

The test feed (tests/fixtures/feeds/pay-rules.xml) holds one job per case; the checks must
list exactly the jobs that break each rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from careers.applications.form import load_form
from careers.applications.pay_history import asks_pay_history, pay_history_problem
from careers.config import ConfigError, load_settings
from careers.db.database import open_database
from careers.jobs import pay, search
from careers.jobs.pay import PayRule
from careers.mail.alerts import AlertKind, mail_key
from careers.mail.worker import MailWorker
from careers.personio.feed import parse_feed
from careers.sandbox.mailcatcher import MailCatcher
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN

from .applying import Clock
from .apps import FIXTURES, SECRET

FEED = (FIXTURES / "feeds" / "pay-rules.xml").read_bytes()
POSITIONS = parse_feed(FEED)
# What each rule must find in the test feed, by position id (1008 has no title: unpublished).
EU_BREAKING = {
    1004: (pay.NO_SALARY,),
    1005: (pay.NO_UNIT,),
    1006: (pay.NO_SALARY,),
    1007: (pay.NO_UNIT,),
}
AT_BREAKING = {
    1003: (pay.NO_MINIMUM,),
    1004: (pay.NO_SALARY,),
    1005: (pay.NO_UNIT,),
    1006: (pay.NO_SALARY,),
    1007: (pay.NO_UNIT,),
}


@pytest.fixture
def pay_board(sandbox):
    """The test feed in English and German."""
    for lang in ("en", "de"):
        sandbox.set_positions(lang, list(POSITIONS))
    return sandbox


@pytest.mark.parametrize(
    ("rule", "expected"), [(PayRule.EU, EU_BREAKING), (PayRule.AT, AT_BREAKING), (PayRule.OFF, {})]
)
def test_each_rule_finds_exactly_the_jobs_that_break_it(rule, expected):
    found = pay.findings([POSITIONS, POSITIONS], rule)  # two languages: each job once
    assert {f.id: f.problems for f in found} == expected


def test_the_setting_defaults_to_eu_and_refuses_other_values():
    base = {"CAREERS_PERSONIO_SUBDOMAIN": "acme", "CAREERS_SECRET_KEY": SECRET}
    assert load_settings(base).pay_transparency is PayRule.EU
    assert (
        load_settings({**base, "CAREERS_PAY_TRANSPARENCY": " AT "}).pay_transparency is PayRule.AT
    )
    with pytest.raises(ConfigError) as caught:
        load_settings({**base, "CAREERS_PAY_TRANSPARENCY": "de"})
    assert caught.value.problems == ["CAREERS_PAY_TRANSPARENCY: must be off, eu or at"]


# -- what candidates see --------------------------------------------------------------------


def test_cards_pages_feed_and_api_show_the_pay_in_the_page_language(make_app, pay_board):
    client = make_app().test_client()
    listing = lxml.html.fromstring(client.get("/en/jobs").get_data(as_text=True))
    cards = {
        card.xpath("string(.//h3)").strip(): card.xpath("string(.//p[@class='job-card__pay'])")
        for card in listing.xpath("//li[@class='job-card']")
    }
    assert cards["Robotics Engineer (m/w/d)"].strip() == "Salary: €50,000 – €60,000 gross a year"
    assert cards["Firmware Engineer (m/w/d)"].strip() == "Salary: from €4,500 gross a month"
    assert cards["Sales Development Representative"] == ""
    german = client.get("/de/jobs/1002", follow_redirects=True).get_data(as_text=True)
    assert "ab 4.500\u00a0€ brutto pro Monat" in german
    atom = client.get("/en/jobs.atom").get_data(as_text=True)
    assert "Salary: €50,000 – €60,000 gross a year" in atom
    api = client.get("/api/v1/jobs/1002?lang=de").get_json()["job"]["salary"]
    assert api["text"] == "ab 4.500\u00a0€ brutto pro Monat"
    assert (api["min"], api["max"], api["period"], api["yearly"]) == (
        4500.0,
        None,
        "monthly",
        54000.0,
    )


def test_the_austrian_note_about_paying_more_shows_only_under_at(make_app, pay_board):
    note = "Willingness to pay more depending on qualifications and experience."
    eu = make_app().test_client()
    assert note not in eu.get("/en/jobs/1002", follow_redirects=True).get_data(as_text=True)
    at = make_app(pay_transparency="at").test_client()
    assert note in at.get("/en/jobs/1002", follow_redirects=True).get_data(as_text=True)
    german = at.get("/de/jobs/1002", follow_redirects=True).get_data(as_text=True)
    assert "Bereitschaft zur Überzahlung je nach Qualifikation und Erfahrung." in german
    # A fixed amount (minimum = maximum) is how Personio says "no more than this".
    assert note not in at.get("/en/jobs/1009", follow_redirects=True).get_data(as_text=True)


def _ids(client, query: str) -> list[int]:
    body = client.get(f"/api/v1/jobs?lang=en&{query}").get_json()
    return [job["id"] for job in body["jobs"]]


def test_salary_filter_and_sort_in_the_api_and_on_the_list(make_app, pay_board):
    client = make_app().test_client()
    # Per year: 1003 70,000; 1001 60,000; 1002 4,500 × 12; 1009 14.50 × 2,080 hours.
    assert _ids(client, "sort=salary") == [1003, 1001, 1002, 1009, 1007, 1006, 1005, 1004]
    assert _ids(client, "min_salary=55000") == [1003, 1001]
    assert _ids(client, "min_salary=55.000&sort=salary") == [1003, 1001]
    assert sorted(_ids(client, "min_salary=0")) == [1001, 1002, 1003, 1009]
    assert len(_ids(client, "min_salary=lots")) == 8  # malformed: no filter, never an error
    counts = client.get("/api/v1/jobs?lang=en&min_salary=55000").get_json()["facets"]
    assert {v["value"]: v["count"] for v in counts["department"]} == {"Engineering": 1, "Sales": 1}
    page = lxml.html.fromstring(client.get("/en/jobs?min_salary=55000&sort=salary").data)
    titles = [t.strip() for t in page.xpath("//li[@class='job-card']//h3//text()") if t.strip()]
    assert titles == ["Account Executive", "Robotics Engineer (m/w/d)"]
    assert page.xpath("string(//input[@name='min_salary']/@value)") == "55000"
    assert page.xpath("//select[@name='sort']/option[@selected]/@value") == ["salary"]
    # Links built from the list keep the pay filter (removing another filter keeps it).
    chips = lxml.html.fromstring(client.get("/en/jobs?min_salary=0&department=Sales").data)
    (remove,) = chips.xpath("//a[contains(@class, 'chip--removable')]/@href")
    assert "min_salary=0" in remove and "department" not in remove


# -- what operators are told ----------------------------------------------------------------


@pytest.fixture
def check_env(pay_board, sandbox_server, tmp_path: Path) -> dict[str, str]:
    return {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_server.url}/xml",
        "CAREERS_PERSONIO_API_URL": sandbox_server.url,
        "CAREERS_PERSONIO_COMPANY_ID": SANDBOX_COMPANY_ID,
        "CAREERS_PERSONIO_RECRUITING_TOKEN": SANDBOX_TOKEN,
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path / "data"),
        "CAREERS_DEFAULT_COUNTRY": "AT",
        "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
        "CAREERS_PRIVACY_URL": f"{sandbox_server.url}/privacy-policy",
    }


@pytest.mark.parametrize(("rule", "expected"), [("eu", EU_BREAKING), ("at", AT_BREAKING)])
def test_careers_check_lists_exactly_the_breaking_jobs(runner, check_env, rule, expected):
    result = runner.invoke(["check"], env={**check_env, "CAREERS_PAY_TRANSPARENCY": rule})
    lines = [line for line in result.output.splitlines() if line.startswith("pay transparency")]
    named = sorted(int(line.split("position ")[1].split()[0]) for line in lines)
    assert named == sorted(expected), result.output
    assert (
        f"pay transparency ({rule}): WARNING position 1004 (Sales Development Representative): no salary; fill it in Personio"
        in lines
    )
    assert result.exit_code == 0  # warnings: the site serves meanwhile


def test_careers_check_with_the_rule_off_checks_nothing(runner, check_env):
    result = runner.invoke(["check"], env={**check_env, "CAREERS_PAY_TRANSPARENCY": "off"})
    assert "pay transparency: off (CAREERS_PAY_TRANSPARENCY), nothing checked" in result.output
    assert "WARNING position 1004" not in result.output


def test_readyz_lists_the_breaking_jobs_as_details_and_stays_ready(make_app, pay_board):
    client = make_app(pay_transparency="at").test_client()
    assert client.get("/en/jobs").status_code == 200
    answer = client.get("/readyz")
    assert answer.status_code == 200
    details = answer.get_json()["details"]["pay_transparency"]
    assert details["rule"] == "at"
    assert {job["id"]: tuple(job["problems"]) for job in details["breaking"]} == AT_BREAKING


def test_the_operators_get_one_mail_a_day_across_hosts(make_app, pay_board, tmp_path):
    clock = Clock()
    with MailCatcher() as catcher:
        app = make_app(
            smtp_url=catcher.smtp_url,
            mail_from="Careers <jobs@nordlicht.example>",
            public_url="http://careers.test",
            alert_email="ops@nordlicht.example",
        )
        assert app.test_client().get("/en/jobs").status_code == 200
        services = app.extensions["careers"]
        databases = []
        workers = []
        for _ in range(2):  # two hosts on one database
            database = open_database(services.settings.database_url, clock=clock)
            databases.append(database)
            workers.append(
                MailWorker(
                    services.settings,
                    database.mail,
                    database.outbox,
                    services.catalogue,
                    clock=clock,
                )
            )
        try:
            for worker in workers:
                worker.monitor()
                worker.monitor()
            while any(worker.send_next() for worker in workers):
                pass
            assert len(catcher.messages()) == 1
            clock.advance(24 * 3600)
            for worker in workers:
                worker.monitor()
            while any(worker.send_next() for worker in workers):
                pass
        finally:
            for database in databases:
                database.close()
        first, second = catcher.messages()
    assert "4 open job ad(s) break the pay-transparency rule (eu)" in first.subject
    for job_id, problems in EU_BREAKING.items():
        assert f"{job_id} – " in first.text and problems[0] in first.text
    assert "1003 – " not in first.text  # fine under eu
    assert second.subject == first.subject  # the next day, the same jobs again


def test_the_alert_key_is_the_day():
    assert mail_key(AlertKind.PAY, "2026-12-06") == "alert:pay_transparency:2026-12-06"


# -- no questions about pay history ---------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "label", "asks"),
    [
        ("en", "What is your current salary?", True),
        ("en", "Salary history", True),
        ("en", "Previous compensation", True),
        ("en", "Salary expectations", False),
        ("en", "Expected annual salary", False),
        ("en", "Current employer", False),
        ("de", "Aktuelles Bruttojahresgehalt", True),
        ("de", "Letztes Gehalt", True),
        ("de", "Gehaltsvorstellung", False),
        ("de", "Ihre Gehaltswünsche", False),
        ("fr", "Salaire actuel", True),
        ("fr", "Prétentions salariales", False),
        ("es", "Salario actual", True),
        ("es", "Expectativa salarial", False),
        ("nl", "Huidig salaris", True),
        ("nl", "Salarisindicatie", False),
        ("it", "Retribuzione attuale (RAL)", True),
        ("it", "Aspettative economiche", False),
        ("pt", "Salário atual", True),
        ("pt", "Pretensão salarial", False),
    ],
)
def test_pay_history_questions_are_told_from_expectations(language, label, asks):
    assert asks_pay_history(label, language) is asks


FORM = """
[[field]]
id = "custom_attribute_7"
type = "number"
required = false
label = {{ en = "{en}", de = "{de}" }}
"""


def test_a_form_file_asking_for_current_pay_stops_start_up_with_one_line(tmp_path):
    form = tmp_path / "form.toml"
    form.write_text(FORM.format(en="Your current salary", de="Ihr aktuelles Gehalt"))
    base = {
        "CAREERS_PERSONIO_SUBDOMAIN": "acme",
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_FORM_FILE": str(form),
    }
    with pytest.raises(ConfigError) as caught:
        load_settings(base)
    (line,) = caught.value.problems
    assert line.startswith("CAREERS_FORM_FILE: field custom_attribute_7 ('Your current salary')")
    assert "salary expectations" in line and "\n" not in line
    # Outside the EU the operator may switch the rules off.
    assert load_settings({**base, "CAREERS_PAY_TRANSPARENCY": "off"}).form.fields
    form.write_text(FORM.format(en="Salary expectations", de="Gehaltsvorstellung"))
    assert pay_history_problem(load_form(form, ("en", "de"))) == ""
    assert load_settings(base).form.fields[0].id == "custom_attribute_7"


def test_search_parses_amounts_as_people_type_them():
    for text, amount in (("50000", 50000), ("50,000", 50000), ("50.000", 50000), ("50 000", 50000)):
        assert search.parse_query({"min_salary": [text]}).min_salary == amount
    for text in ("", "-5", "50k", "5.0", "1e9", "9" * 12):
        assert search.parse_query({"min_salary": [text]}).min_salary is None


def test_the_json_of_a_breaking_job_names_its_problems():
    finding = pay.findings([POSITIONS], PayRule.AT)[0]
    assert json.dumps(finding.problems) == '["no minimum per time unit"]'


def test_json_ld_names_a_salary_only_with_its_time_unit():
    from careers.personio.model import Salary
    from careers.web.seo import base_salary

    assert base_salary(Salary(3200, None, "€", "EUR", "")) is None  # Google wants unitText
    assert base_salary(Salary(15000, 18000, "€", "EUR", "quarterly")) is None
    assert base_salary(Salary(4500, None, "€", "EUR", "monthly")) == {
        "@type": "MonetaryAmount",
        "currency": "EUR",
        "value": {"@type": "QuantitativeValue", "minValue": 4500, "unitText": "MONTH"},
    }
