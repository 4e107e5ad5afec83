"""Three Personio accounts on one site (CAREERS_ACCOUNTS_FILE), against a sandbox that
serves three accounts: one board of all their jobs, each application delivered to its own
account with that account's credentials (two by API v1, one by v2), a rate-limited account
and a broken feed beside healthy ones, per-account forms, and two hosts on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from careers import create_app
from careers.applications.delivery import Deliverer
from careers.applications.model import Application, Attachment
from careers.db import migrate
from careers.db.database import open_database
from careers.db.funnel import Key
from careers.jobs.funnel import Step
from careers.mail.alerts import AlertKind
from careers.mail.compose import webhook_body
from careers.personio.vocabulary import DocumentCategory
from careers.sandbox.accounts import SandboxAccounts, account_feeds, sample_accounts, sample_file
from careers.sandbox.recruiting import SANDBOX_COMPANY_ID, SANDBOX_TOKEN
from careers.sandbox.server import Sandbox, SandboxServer

from . import filegen
from .applying import FORM, JOB, open_form, send, valid_fields
from .apps import SECRET
from .pg import as_url
from .servers import eventually
from .upgrading import write_as_before_funnel

NAMES = {"nord": "Nordlicht Robotics GmbH", "sued": "Südlicht AG", "west": "Westwind BV"}
OFFSETS = {"nord": 0, "sued": 1_000_000, "west": 2_000_000}
COMPANIES = {"nord": "111", "sued": "222", "west": "333"}
TOKENS = {"nord": "nord-token-0123456789", "sued": "sued-token-0123456789"}
WEST_CLIENT, WEST_SECRET = "west-client", "west-secret-0123456789"


def job_of(account: str) -> int:
    """The sample job (Embedded Systems Engineer) as the account publishes it."""
    return JOB + OFFSETS[account]


def fetched(app: Flask) -> Flask:
    """`app` once every account's first fetch has ended: a cold start shows whichever
    account's board comes first, and these tests look at all of them."""
    board = app.extensions["careers"].catalogue
    for language in board.languages:
        board.snapshot(language, wait=0)
    board.wait_idle(30)
    return app


@pytest.fixture
def personio() -> Iterator[SandboxServer]:
    """One sandbox, three accounts: nord and sued take API v1 keys, west an OAuth client."""
    accounts = SandboxAccounts(
        {
            key: Sandbox(
                account_feeds(OFFSETS[key]),
                company_id=COMPANIES[key],
                token=TOKENS.get(key, "west-unused-v1-token"),
                client_id=WEST_CLIENT if key == "west" else f"{key}-client",
                client_secret=WEST_SECRET if key == "west" else f"{key}-secret-0123456789",
            )
            for key in NAMES
        }
    )
    with SandboxServer(accounts=accounts) as server:
        yield server


def accounts_file(tmp_path: Path, url: str, sued_rate: str = "20/60") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "sued-form.toml").write_text(FORM, encoding="utf-8")
    path = tmp_path / "accounts.toml"
    path.write_text(
        f"""\
[[account]]
key = "nord"
name = "{NAMES["nord"]}"
feed_url = "{url}/nord/xml"
api_url = "{url}"
company_id = "111"
recruiting_token_env = "NORD_TOKEN"

[[account]]
key = "sued"
name = "{NAMES["sued"]}"
feed_url = "{url}/sued/xml"
api_url = "{url}"
company_id = "222"
recruiting_token = "{TOKENS["sued"]}"
form_file = "sued-form.toml"
privacy_url = "https://sued.example/privacy"
rate_limit = "{sued_rate}"

[[account]]
key = "west"
name = "{NAMES["west"]}"
feed_url = "{url}/west/xml"
api_url = "{url}"
client_id = "{WEST_CLIENT}"
client_secret_env = "WEST_SECRET"
""",
        encoding="utf-8",
    )
    return path


def site_env(tmp_path: Path, url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "CAREERS_ACCOUNTS_FILE": str(accounts_file(tmp_path, url, extra.pop("sued_rate", "20/60"))),
        "NORD_TOKEN": TOKENS["nord"],
        "WEST_SECRET": WEST_SECRET,
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(data_dir),
        "CAREERS_COMPANY_NAME": "Lichtgruppe",
        "CAREERS_PRIVACY_URL": "https://lichtgruppe.example/privacy",
        "CAREERS_MIN_FILL_SECONDS": "0",
        "CAREERS_PAY_TRANSPARENCY": "off",
        **extra,
    }


@pytest.fixture
def site(personio: SandboxServer, tmp_path: Path) -> Iterator[Flask]:
    app = fetched(create_app(site_env(tmp_path, personio.url, tmp_path / "data")))
    yield app
    app.extensions["careers"].close()


def apply_to(
    app: Flask, account: str, tmp_path: Path, email: str = "juergen.mueller@example.com"
) -> None:
    """Apply with a CV to the account's sample job."""
    client = app.test_client()
    token = open_form(client, job_of(account))
    cv = filegen.make_pdf(tmp_path / f"cv-{email}.pdf", text=f"CV of {email}")
    answer = send(
        client,
        valid_fields(token, email=email),
        [("cv", cv, "CV.pdf", "application/pdf")],
        job=job_of(account),
    )
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]


def deliverers(app: Flask, stop: threading.Event | None = None) -> dict[str, Deliverer]:
    return {d.account: d for d in app.extensions["careers"].deliverers(stop)}


def drain(deliverer: Deliverer) -> list[str]:
    outcomes = []
    while (outcome := deliverer.deliver_next()) is not None:
        outcomes.append(outcome)
    return outcomes


def ids_of(answer) -> set[int]:
    return {job["id"] for job in answer.get_json()["jobs"]}


def test_the_three_accounts_jobs_are_on_one_board_with_an_employer_facet(site, personio):
    client = site.test_client()
    listed = client.get("/api/v1/jobs?lang=en").get_json()
    ids = {job["id"] for job in listed["jobs"]}
    per_account = len(personio.app["nord"].positions("en"))
    assert len(ids) == 3 * per_account
    assert {job_of(key) for key in NAMES} <= ids
    by_id = {job["id"]: job for job in listed["jobs"]}
    for key in NAMES:
        assert by_id[job_of(key)]["account"] == {"key": key, "name": NAMES[key]}
    assert [(f["value"], f["label"], f["count"]) for f in listed["facets"]["account"]] == [
        (key, NAMES[key], per_account) for key in sorted(NAMES)
    ]

    page = client.get("/en/jobs").get_data(as_text=True)
    assert "Employer" in page
    for key in NAMES:
        assert f"/en/jobs/{job_of(key)}-" in page
        assert f'name="account" value="{key}"' in page  # the facet's checkbox
        assert f'{NAMES[key]}</span> <span class="count">({per_account})' in page

    # A job page of each account names its employer, in the facts and in JSON-LD.
    for key in NAMES:
        detail = client.get(f"/en/jobs/{job_of(key)}", follow_redirects=True)
        assert detail.status_code == 200
        html = detail.get_data(as_text=True)
        assert NAMES[key] in html
        assert f'"hiringOrganization":{{"@type":"Organization","name":"{NAMES[key]}"' in html


def test_similar_jobs_come_from_every_account(site):
    # The three boards are the same sample board: the job most like sued's Embedded Systems
    # Engineer is the same job at nord and at west.
    page = site.test_client().get(f"/en/jobs/{job_of('sued')}", follow_redirects=True)
    html = page.get_data(as_text=True)
    assert f"/en/jobs/{job_of('nord')}-" in html and f"/en/jobs/{job_of('west')}-" in html


def test_the_account_parameter_limits_the_list_the_widget_and_the_api(site, personio):
    client = site.test_client()
    sued = {p.id for p in personio.app["sued"].positions("en")}
    assert ids_of(client.get("/api/v1/jobs?lang=en&account=sued")) == sued
    both = ids_of(client.get("/api/v1/jobs?lang=en&account=sued&account=west"))
    assert both == sued | {p.id for p in personio.app["west"].positions("en")}
    assert ids_of(client.get("/api/v1/jobs?lang=en&account=nobody")) == set()
    for path in ("/en/jobs?account=sued", "/embed/en/jobs?account=sued"):
        page = client.get(path).get_data(as_text=True)
        assert f"/jobs/{job_of('sued')}-" in page
        assert f"/jobs/{job_of('nord')}-" not in page and f"/jobs/{job_of('west')}-" not in page


def test_an_application_to_each_account_reaches_it_with_its_own_credentials(
    site, personio, tmp_path
):
    for key in NAMES:
        apply_to(site, key, tmp_path, email=f"candidate.{key}@example.com")
    summaries = site.extensions["careers"].outbox.summaries()
    assert sorted(s.account for s in summaries) == sorted(NAMES)
    for key, deliverer in deliverers(site).items():
        assert drain(deliverer) == ["delivered"], key
    for key in NAMES:
        sandbox = personio.app[key]
        [received] = sandbox.received_applications
        body = received["body"]
        assert int(body["job_position_id"]) == job_of(key)
        assert body["email"] == f"candidate.{key}@example.com"
        calls = [r for r in sandbox.requests if r["path"].startswith(("/v1/", "/v2/"))]
        assert calls
        if key == "west":
            assert all(r["path"].startswith("/v2/") for r in calls)  # the OAuth client's API
        else:
            assert {r["headers"].get("X-Company-ID") for r in calls} == {COMPANIES[key]}
    # Only sued's form asks "How did you hear about us?": its application alone carries it.
    sued = personio.app["sued"].received_applications[0]["body"]
    nord = personio.app["nord"].received_applications[0]["body"]
    assert "custom_attribute_1002" in str(sued)
    assert "custom_attribute_1002" not in str(nord)


def test_each_account_has_its_own_form(site):
    client = site.test_client()
    sued = client.get(f"/en/jobs/{job_of('sued')}/apply").get_data(as_text=True)
    nord = client.get(f"/en/jobs/{job_of('nord')}/apply").get_data(as_text=True)
    assert "How did you hear about us?" in sued
    assert "How did you hear about us?" not in nord
    # The candidate consents to the employer's own policy.
    assert "agree that Südlicht AG processes my data" in sued
    assert 'href="https://sued.example/privacy"' in sued
    assert "agree that Nordlicht Robotics GmbH processes my data" in nord
    assert 'href="https://lichtgruppe.example/privacy"' in nord  # the site's, by default


def test_a_rate_limited_account_leaves_the_others_untouched(site, personio, tmp_path):
    personio.app["sued"].inject("recruiting", "status", status=429)
    for key in NAMES:
        apply_to(site, key, tmp_path, email=f"candidate.{key}@example.com")
    workers = deliverers(site)
    assert drain(workers["sued"]) == ["retry"]
    assert drain(workers["nord"]) == ["delivered"]
    assert drain(workers["west"]) == ["delivered"]
    outbox = site.extensions["careers"].outbox
    [waiting] = outbox.summaries("pending")
    assert waiting.account == "sued" and waiting.last_reason == "rate_limited"
    # sued's backlog is not the others' to touch: their workers find nothing due.
    assert workers["nord"].deliver_next() is None and workers["west"].deliver_next() is None
    assert outbox.get(waiting.id).attempts == 1


def test_a_broken_feed_leaves_the_other_accounts_on_the_board(personio, tmp_path):
    west = personio.app["west"]
    west.inject("feed", "status", status=500)
    app = fetched(create_app(site_env(tmp_path, personio.url, tmp_path / "data")))
    try:
        client = app.test_client()
        ids = {job["id"] for job in client.get("/api/v1/jobs?lang=en").get_json()["jobs"]}
        assert job_of("nord") in ids and job_of("sued") in ids
        assert not ids & {position.id for position in west.positions("en")}
        # Ready: the board serves two accounts; the note names the one whose feed fails.
        app.extensions["careers"].catalogue.wait_idle()
        client.get("/api/v1/jobs?lang=de")
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        notes = ready.get_json()["notes"]
        assert any(note.startswith("feed en (west): no copy yet") for note in notes), notes
        assert not any("(nord)" in note or "(sued)" in note for note in notes)
        # Fixed at Personio: the next refresh brings west back beside the others.
        west.clear_faults()
        app.extensions["careers"].catalogue.refresh("en")
        ids = {job["id"] for job in client.get("/api/v1/jobs?lang=en").get_json()["jobs"]}
        assert {job_of(key) for key in NAMES} <= ids
        # And a feed that breaks later keeps its last good copy.
        west.inject("feed", "malformed")
        assert app.extensions["careers"].catalogue.refresh("en") != "ok"
        ids = {job["id"] for job in client.get("/api/v1/jobs?lang=en").get_json()["jobs"]}
        assert {job_of(key) for key in NAMES} <= ids
    finally:
        app.extensions["careers"].close()


def test_budgets_are_kept_per_account_across_two_hosts_on_postgresql(personio, tmp_path, pg_url):
    url = as_url(pg_url)
    hosts = [
        create_app(
            site_env(
                tmp_path / name,
                personio.url,
                tmp_path / name / "data",
                CAREERS_DATABASE_URL=url,
                sued_rate="2/60",
            )
        )
        for name in ("a", "b")
    ]
    try:
        apply_to(hosts[0], "sued", tmp_path, email="first@example.com")
        apply_to(hosts[0], "sued", tmp_path, email="second@example.com")
        apply_to(hosts[1], "nord", tmp_path, email="third@example.com")
        # A set stop event: a worker out of budget gives up at once ("interrupted")
        # instead of waiting for a slot.
        stop = threading.Event()
        stop.set()
        a, b = deliverers(hosts[0], stop), deliverers(hosts[1], stop)
        assert a["sued"].deliver_next() == "delivered"
        # sued's two requests a minute (upload, create) are spent, for every host ...
        assert b["sued"].deliver_next() == "interrupted"
        # ... and nord's budget is its own: host b delivers nord's application now.
        assert b["nord"].deliver_next() == "delivered"
        assert len(personio.app["sued"].received_applications) == 1
        [nord] = personio.app["nord"].received_applications
        assert nord["body"]["email"] == "third@example.com"
        # Each account's last good feed is shared with every host, apart from the others'.
        with psycopg.connect(pg_url) as conn:
            copies = {row[0] for row in conn.execute("SELECT language FROM feed_copies")}
        assert {f"{key}/en" for key in NAMES} <= copies
    finally:
        for app in hosts:
            app.extensions["careers"].close()


def test_operations_name_the_account(personio, tmp_path, runner):
    """A refused key pauses that account's delivery alone: /readyz notes it (the others
    deliver), the operators' alert names the account, `careers outbox list` shows it."""
    env = site_env(
        tmp_path,
        personio.url,
        tmp_path / "data",
        CAREERS_ALERT_WEBHOOK_URL="https://hooks.lichtgruppe.example/careers",
    )
    app = fetched(create_app(env))
    svc = app.extensions["careers"]
    try:
        personio.app["sued"].inject("recruiting", "status", status=401)
        for key in ("sued", "nord"):
            apply_to(app, key, tmp_path, email=f"candidate.{key}@example.com")
        workers = {d.account: d for d in svc.deliverers(mailer=svc.mail_worker())}
        assert workers["sued"].deliver_next() == "paused"
        assert workers["nord"].deliver_next() == "delivered"

        ready = app.test_client().get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert (
            "delivery paused: Personio rejected the API credentials (sued)"
            in (ready.get_json()["notes"])
        )

        alert = svc.mail.claim_mail("test")
        assert alert is not None and alert.params["alert"] == "credentials_rejected"
        assert alert.params["account"] == "sued"
        body = json.loads(webhook_body(AlertKind.CREDENTIALS, alert.params, "https://x.example"))
        assert body["text"].endswith("Personio rejected the API credentials (account sued)")

        listed = runner.invoke(["outbox", "list"], env=env)
        assert listed.exit_code == 0, listed.output
        header, *rows = listed.output.splitlines()
        assert "account" in header
        assert sorted(row.split()[2] for row in rows) == ["nord", "sued"]
        [paused] = [row for row in rows if row.split()[2] == "sued"]
        assert paused.split()[1] == "pending" and paused.endswith("credentials_rejected")
    finally:
        svc.close()


def test_careers_check_names_every_account(personio, tmp_path, runner):
    env = site_env(tmp_path, personio.url, tmp_path / "data")
    personio.app["west"].inject("feed", "status", status=404, language="en")
    personio.app["sued"].inject("recruiting", "status", status=401)
    result = runner.invoke(["check"], env=env)
    out = result.output
    assert out.startswith("configuration ok; 3 Personio accounts: nord, sued, west\n"), out
    assert f"account sued: {NAMES['sued']}, feed {personio.url}/sued/xml" in out
    assert "mode (west): applications via Recruiting API v2" in out
    assert "recruiting API (nord): credentials ok, delivery uses API v1" in out
    assert "recruiting API (west): credentials ok, delivery uses API v2" in out
    assert "recruiting API (sued): FAILED credentials rejected" in out
    assert "feed en (nord): " in out and "feed de (sued): " in out
    assert "feed en (west): FAILED (unknown_account)" in out
    assert result.exit_code == 1


def test_applications_stored_before_accounts_go_to_the_first_account(
    sandbox, sandbox_server, tmp_path, monkeypatch
):
    """A release-0.3 database (schema 3) with a pending application, then an accounts file:
    the upgrade gives the row no account, and the first account's worker delivers it."""
    data_dir = tmp_path / "data"
    url = f"sqlite:///{data_dir / 'careers.db'}"
    stored = data_dir / "spool" / "stored"
    stored.mkdir(parents=True)
    cv = filegen.make_pdf(stored / "0a1b2c", text="Ada Lovelace, notes")
    earlier = tuple(step for step in migrate.steps("sqlite") if step.version <= 3)
    made = open_database(url, steps=earlier)
    write_as_before_funnel(monkeypatch, "sqlite")  # as release 0.3 wrote its rows
    try:
        made.outbox.add(
            Application(
                position_id=JOB,
                language="en",
                first_name="Ada",
                last_name="Lovelace",
                email="ada.lovelace@example.com",
                documents=(Attachment(DocumentCategory.CV, "CV.pdf", str(cv), cv.stat().st_size),),
            )
        )
    finally:
        made.close()
        monkeypatch.undo()
    path = tmp_path / "accounts.toml"
    path.write_text(
        f"""\
[[account]]
key = "legacy"
name = "Nordlicht Robotics GmbH"
feed_url = "{sandbox_server.url}/xml"
api_url = "{sandbox_server.url}"
company_id = "{SANDBOX_COMPANY_ID}"
recruiting_token = "{SANDBOX_TOKEN}"

[[account]]
key = "other"
name = "Someone else"
feed_url = "{sandbox_server.url}/xml"
""",
        encoding="utf-8",
    )
    env = {
        "CAREERS_ACCOUNTS_FILE": str(path),
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(data_dir),
        "CAREERS_PRIVACY_URL": "https://nordlicht.example/privacy",
    }
    app = create_app(env)  # migrates at start: step 008 gives the row account ''
    try:
        [row] = app.extensions["careers"].outbox.summaries()
        assert row.account == ""
        [legacy] = deliverers(app).values()  # "other" takes no applications: no worker
        assert legacy.account == "legacy"
        assert drain(legacy) == ["delivered"]
        [received] = sandbox.received_applications
        assert received["body"]["email"] == "ada.lovelace@example.com"
    finally:
        app.extensions["careers"].close()


def test_the_sandboxs_sample_accounts_file_starts_a_site_of_them(tmp_path, runner):
    """`careers sandbox --accounts` serves this and prints this file."""
    accounts = sample_accounts(["acme", "globex", "initech"])
    with SandboxServer(accounts=accounts) as server:
        path = tmp_path / "accounts.toml"
        path.write_text(sample_file(accounts, server.url), encoding="utf-8")
        env = {
            "CAREERS_ACCOUNTS_FILE": str(path),
            "CAREERS_SECRET_KEY": SECRET,
            "CAREERS_DATA_DIR": str(tmp_path / "data"),
            "CAREERS_PRIVACY_URL": "https://sandbox.example/privacy",
            "CAREERS_MIN_FILL_SECONDS": "0",
        }
        app = fetched(create_app(env))
        try:
            settings = app.extensions["careers"].settings
            assert [(a.key, a.api_version) for a in settings.accounts] == [
                ("acme", 2),
                ("globex", 1),
                ("initech", 1),
            ]
            jobs = app.test_client().get("/api/v1/jobs?lang=en").get_json()["jobs"]
            assert {job["account"]["key"] for job in jobs} == {"acme", "globex", "initech"}
            for key, offset in (("acme", 0), ("globex", 1_000_000)):
                client = app.test_client()
                token = open_form(client, JOB + offset)
                cv = filegen.make_pdf(tmp_path / f"{key}.pdf", text="CV")
                fields = valid_fields(token, custom_attribute_1002=None)
                sent = send(
                    client, fields, [("cv", cv, "CV.pdf", "application/pdf")], job=JOB + offset
                )
                assert sent.status_code == 303
            for deliverer in app.extensions["careers"].deliverers():
                drain(deliverer)
            assert len(accounts["acme"].received_applications) == 1
            assert len(accounts["globex"].received_applications) == 1
        finally:
            app.extensions["careers"].close()
    refused = runner.invoke(["sandbox", "--accounts", "Acme,acme"])
    assert refused.exit_code == 2 and "--accounts" in refused.output


def test_an_id_two_feeds_publish_is_shown_once_from_the_first_account(tmp_path, caplog):
    """Personio never numbers two accounts' positions alike; hand-made feeds might."""
    accounts = SandboxAccounts({"first": Sandbox(), "second": Sandbox()})
    with SandboxServer(accounts=accounts) as server:
        path = tmp_path / "accounts.toml"
        path.write_text(
            "".join(
                f'[[account]]\nkey = "{key}"\nname = "{key.title()}"\nfeed_url = "{server.url}/{key}/xml"\n'
                for key in ("first", "second")
            ),
            encoding="utf-8",
        )
        env = {
            "CAREERS_ACCOUNTS_FILE": str(path),
            "CAREERS_SECRET_KEY": SECRET,
            "CAREERS_DATA_DIR": str(tmp_path / "data"),
        }
        app = fetched(create_app(env))
        try:
            jobs = app.test_client().get("/api/v1/jobs?lang=en").get_json()["jobs"]
            ids = [job["id"] for job in jobs]
            assert len(ids) == len(set(ids)) == len(accounts["first"].positions("en"))
            assert {job["account"]["key"] for job in jobs} == {"first"}
            assert "position id published by two accounts" in caplog.text
        finally:
            app.extensions["careers"].close()


def test_a_hanging_feed_does_not_hold_up_the_other_accounts_board(personio, tmp_path):
    """Cold start with one account's feed hanging: the board comes as soon as another
    account's is there, while that fetch still hangs (no waiting out its timeout)."""
    west = personio.app["west"]
    west.inject("feed", "hang", delay=60)
    app = create_app(site_env(tmp_path, personio.url, tmp_path / "data"))
    board = app.extensions["careers"].catalogue
    try:
        view = board.snapshot("en", wait=3600)
        assert view is not None  # the first healthy account's board, without waiting for west
        [hanging] = [part.catalogue for part in board.parts if part.key == "west"]
        healthy = {job_of("nord"), job_of("sued")}

        def both_healthy_boards() -> bool:
            nonlocal view
            view = board.snapshot("en", wait=0)
            return view is not None and healthy <= set(view.by_id)

        # The other healthy account may come a moment later; west's fetch still hangs.
        assert eventually(both_healthy_boards, seconds=30)
        assert view is not None and hanging.fetching()
        assert job_of("west") not in view.by_id
    finally:
        west.release()  # the hang ends, the fetch fails, the app can close
        app.extensions["careers"].close()


def test_one_accounts_api_answer_has_no_account_facet_or_field(client):
    """The site of the CAREERS_PERSONIO_* variables answers as before accounts existed."""
    answer = client.get("/api/v1/jobs?lang=en").get_json()
    assert "account" not in answer["facets"]
    assert all("account" not in job for job in answer["jobs"])
    page = client.get("/en/jobs").get_data(as_text=True)
    assert "Employer" not in page and 'name="account"' not in page


def test_the_funnel_report_names_each_jobs_account(site, runner):
    """`careers report` on a site of several accounts: each job's row says whose it is."""
    day = datetime.now(UTC).date().isoformat()
    site.extensions["careers"].storage.database.funnel.add(
        {
            Key(day, job_of("nord"), "", "en", Step.JOB_VIEW): 5,
            Key(day, job_of("west"), "", "en", Step.JOB_VIEW): 7,
        }
    )
    env = {"CAREERS_DATA_DIR": site.extensions["careers"].settings.data_dir.as_posix()}
    result = runner.invoke(["report", "--csv"], env=env)
    assert result.exit_code == 0, result.output
    rows = {row["position_id"]: row for row in csv.DictReader(io.StringIO(result.output))}
    assert rows[str(job_of("nord"))]["account"] == "nord"
    assert rows[str(job_of("west"))]["account"] == "west"
    assert rows[str(job_of("west"))]["title"].startswith("Embedded Systems Engineer")
    text = runner.invoke(["report"], env=env).output
    assert f"{job_of('west')} Embedded Systems Engineer" in text and "[west]" in text
