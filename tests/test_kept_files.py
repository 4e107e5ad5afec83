"""Kept files (issue 23 point 3): a post refused for something that is not about a file keeps
its checked files for the resubmission, sealed at rest, named by a reference bound to the new
form, gone an hour later or as soon as the outbox has them.

Real HTTP posts to the app on a loopback port, with real files (tests/filegen.py), delivered
to the real sandbox; on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import lxml.html
import pytest

from careers.applications.rules import KEPT_LIMIT
from careers.db.database import open_database, sqlite_path
from careers.db.kept import KEPT_SECONDS
from careers.forms import tokens
from careers.forms.tokens import KEPT_MAX_AGE, Expired, Forged, KeptTokens

from . import filegen
from .applying import (
    JOB,
    LANGUAGES,
    Clock,
    apply_env,
    deliver_all,
    encode,
    every_language_env,
    open_form,
    send,
    valid_fields,
)
from .browser import live_server
from .filegen_office import make_docx
from .pg import as_url

FORM_URL = f"/en/jobs/{JOB}/apply"
KEPT_NOTE = "Your documents are still attached: you do not need to attach them again."


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request, make_app, sandbox_server, tmp_path):
    """The app on a loopback port, on either database; yields (base URL, app)."""
    extra: dict[str, str] = {}
    if request.param == "postgresql":
        extra["database_url"] = as_url(request.getfixturevalue("pg_url"))
    app = make_app(**apply_env(sandbox_server.url, tmp_path, **extra))
    with live_server(app) as base:
        yield base, app


@pytest.fixture
def sqlite_site(make_app, sandbox_server, tmp_path):
    app = make_app(**apply_env(sandbox_server.url, tmp_path))
    with live_server(app) as base:
        yield base, app


@pytest.fixture
def documents(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "documents"
    folder.mkdir()
    return {
        "cv": filegen.make_pdf(folder / "cv.pdf", text="Lebenslauf Jürgen Müller KEPTMARK"),
        "cover-letter": make_docx(folder / "letter.docx"),
    }


def form_of(html: str) -> dict[str, Any]:
    """The hidden fields, kept files and file inputs of a rendered form."""
    doc = lxml.html.fromstring(html)
    hidden = {i.get("name"): i.get("value") for i in doc.xpath("//form//input[@type='hidden']")}
    kept = [
        {
            "category": li.getparent().get("data-category"),
            "name": li.xpath("string(.//*[@class='file-item__name'])"),
            "size": int(li.get("data-size")),
            "remove": li.xpath(".//input[@name='kept_remove']/@value")[0],
        }
        for li in doc.xpath("//li[contains(@class, 'file-item--kept')]")
    ]
    required = {
        i.get("name"): i.get("required") is not None for i in doc.xpath("//input[@type='file']")
    }
    notice = doc.xpath("string(//*[@id='form-notice'])").strip()
    summary = doc.xpath("string(//*[@id='error-summary'])")
    return {
        "hidden": hidden,
        "kept": kept,
        "required": required,
        "notice": notice,
        "summary": summary,
    }


def token_of(http: httpx.Client) -> str:
    page = http.get(FORM_URL)
    assert page.status_code == 200
    return re.search(r'name="form_token" value="([^"]+)"', page.text)[1]


def post(
    http: httpx.Client, fields: dict[str, str], files=(), remove: str | None = None
) -> httpx.Response:
    """The form as a browser posts it (tests/applying.py's encoding): the token first, then
    the fields, a ticked "Remove", the files."""
    if remove is not None:
        fields = {**fields, "kept_remove": remove}
    body, content_type = encode(
        fields,
        [(name, path, filename, "application/octet-stream") for name, path, filename in files],
    )
    return http.post(FORM_URL, content=body, headers={"Content-Type": content_type})


def kept_rows(app) -> int:
    with app.extensions["careers"].storage.database.connector.reading() as tx:
        return len(tx.all("kept_expired", before=1e12))


def kept_on_disk(app) -> list[Path]:
    return list(app.extensions["careers"].spool.kept.iterdir())


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_missing_field_keeps_the_files_through_the_resubmission_and_delivers_them(
    site, sandbox, documents
):
    base, app = site
    postgres = app.extensions["careers"].storage.database.dialect == "postgresql"
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as http:
        refused = post(
            http,
            valid_fields(token_of(http), first_name=""),
            [
                ("cv", documents["cv"], "Lebenslauf Jürgen.pdf"),
                ("cover-letter", documents["cover-letter"], "Anschreiben.docx"),
            ],
        )
        assert refused.status_code == 422
        form = form_of(refused.text)
        assert [(k["category"], k["name"], k["size"]) for k in form["kept"]] == [
            ("cv", "Lebenslauf Jürgen.pdf", documents["cv"].stat().st_size),
            ("cover-letter", "Anschreiben.docx", documents["cover-letter"].stat().st_size),
        ]
        assert form["required"]["cv"] is False  # a kept CV satisfies the required input
        assert "still attached" in form["summary"]
        assert "please attach them again" not in refused.text
        assert kept_rows(app) == 2
        # At rest: SQLite keeps them as the outbox keeps documents, files under the spool
        # (kept/, 0600); PostgreSQL as sealed chunks: no plain byte of the CV in the table.
        if postgres:
            assert kept_on_disk(app) == []
            backend_rows = _pg_chunks(app)
            assert backend_rows and all(b"KEPTMARK" not in row for row in backend_rows)
            assert all(b"Lebenslauf" not in row for row in backend_rows)
        else:
            on_disk = kept_on_disk(app)
            assert len(on_disk) == 2 and all(p.stat().st_mode & 0o077 == 0 for p in on_disk)
        assert list(app.extensions["careers"].spool.incoming.iterdir()) == []

        # Sent again without attaching anything: stored with the kept files.
        again = post(
            http,
            valid_fields(form["hidden"]["form_token"], kept_files=form["hidden"]["kept_files"]),
        )
        assert again.status_code == 303, again.text
    [summary] = app.extensions["careers"].outbox.summaries()
    assert summary.document_names == ("cv: Lebenslauf Jürgen.pdf", "cover-letter: Anschreiben.docx")
    # Moved into the outbox: forgotten at once, not an hour later.
    assert kept_rows(app) == 0 and kept_on_disk(app) == []
    assert deliver_all(app) == ["delivered"]
    delivered = {d.filename: d.sha256 for d in sandbox.received_documents.values()}
    assert delivered == {
        "Lebenslauf Jürgen.pdf": sha(documents["cv"]),
        "Anschreiben.docx": sha(documents["cover-letter"]),
    }


def _pg_chunks(app) -> list[bytes]:
    with app.extensions["careers"].storage.database.connector.reading() as tx:
        names = [row["filename"] for row in tx.all("kept_expired", before=1e12)]
        assert all(name.startswith("sealed/") for name in names)
    import psycopg

    url = app.extensions["careers"].settings.database_url
    with psycopg.connect(url) as conn:
        return [bytes(r[0]) for r in conn.execute("SELECT data FROM kept_chunks")]


def test_remove_leaves_a_kept_file_out_and_a_new_file_joins_them(
    sqlite_site, sandbox, documents, tmp_path
):
    base, app = sqlite_site
    better = filegen.make_txt(tmp_path / "letter.txt", text="Sehr geehrte Damen und Herren")
    with httpx.Client(base_url=base, timeout=30) as http:
        refused = post(
            http,
            valid_fields(token_of(http), email="not an address"),
            [
                ("cv", documents["cv"], "cv.pdf"),
                ("cover-letter", documents["cover-letter"], "letter.docx"),
            ],
        )
        form = form_of(refused.text)
        letter = next(k["remove"] for k in form["kept"] if k["category"] == "cover-letter")
        again = post(
            http,
            valid_fields(form["hidden"]["form_token"], kept_files=form["hidden"]["kept_files"]),
            [("cover-letter", better, "Anschreiben neu.txt")],
            remove=letter,
        )
        assert again.status_code == 303, again.text
    [summary] = app.extensions["careers"].outbox.summaries()
    assert summary.document_names == ("cv: cv.pdf", "cover-letter: Anschreiben neu.txt")
    assert kept_rows(app) == 0 and kept_on_disk(app) == []
    assert deliver_all(app) == ["delivered"]
    delivered = {d.filename: d.sha256 for d in sandbox.received_documents.values()}
    assert delivered == {"cv.pdf": sha(documents["cv"]), "Anschreiben neu.txt": sha(better)}


def test_kept_files_count_toward_the_limits(sqlite_site, sandbox, tmp_path):
    base, app = sqlite_site
    pdfs = [filegen.make_pdf(tmp_path / f"doc{i}.pdf", text=f"Zeugnis {i}") for i in range(6)]
    with httpx.Client(base_url=base, timeout=30) as http:
        refused = post(
            http,
            valid_fields(token_of(http), first_name=""),
            [("cv", p, f"doc{i}.pdf") for i, p in enumerate(pdfs)],
        )
        form = form_of(refused.text)
        assert len(form["kept"]) == 6
        # Six kept and five new are eleven: more than the ten files a form may carry.
        again = post(
            http,
            valid_fields(form["hidden"]["form_token"], kept_files=form["hidden"]["kept_files"]),
            [("cv", p, f"new{i}.pdf") for i, p in enumerate(pdfs[:5])],
        )
        assert again.status_code == 413
    assert app.extensions["careers"].outbox.summaries() == []
    assert list(app.extensions["careers"].spool.incoming.iterdir()) == []
    assert kept_rows(app) == 6  # still there for the form the candidate goes back to


def test_one_client_cannot_fill_the_disk_with_kept_files(sqlite_site, sandbox, documents):
    """Refused posts from one client keep their files up to rules.KEPT_LIMIT an hour; past
    it the files go, as before kept files existed, and the form asks to attach them again."""
    base, app = sqlite_site
    allowed, _ = KEPT_LIMIT
    with httpx.Client(base_url=base, timeout=30) as http:
        for _ in range(allowed):
            refused = post(
                http,
                valid_fields(token_of(http), first_name=""),
                [("cv", documents["cv"], "cv.pdf")],
            )
            assert refused.status_code == 422 and len(form_of(refused.text)["kept"]) == 1
        over = post(
            http, valid_fields(token_of(http), first_name=""), [("cv", documents["cv"], "cv.pdf")]
        )
    assert over.status_code == 422
    form = form_of(over.text)
    assert form["kept"] == [] and "kept_files" not in form["hidden"]
    assert "attach" in form["summary"] + form["notice"]
    assert kept_rows(app) == allowed and len(kept_on_disk(app)) == allowed
    assert list(app.extensions["careers"].spool.incoming.iterdir()) == []


def test_a_post_sent_too_fast_is_asked_to_check_and_send_again_with_its_files(
    make_app, sandbox_server, sandbox, tmp_path, documents
):
    data = tmp_path / "data"
    fast = make_app(data, **apply_env(sandbox_server.url, tmp_path, min_fill_seconds="600"))
    with live_server(fast) as base, httpx.Client(base_url=base, timeout=30) as http:
        refused = post(
            http,
            valid_fields(token_of(http), first_name="Ada"),
            [("cv", documents["cv"], "cv.pdf")],
        )
    assert refused.status_code == 422
    form = form_of(refused.text)
    assert form["notice"].startswith("Please check your details and send your application again.")
    assert "still attached" in form["notice"]
    assert "could not accept" not in refused.text
    assert 'value="Ada"' in refused.text
    assert [k["name"] for k in form["kept"]] == ["cv.pdf"]
    # The candidate checks and sends again (a site whose minimum they now meet).
    calm = make_app(data, **apply_env(sandbox_server.url, tmp_path))
    with live_server(calm) as base, httpx.Client(base_url=base, timeout=30) as http:
        again = post(
            http,
            valid_fields(
                form["hidden"]["form_token"],
                first_name="Ada",
                kept_files=form["hidden"]["kept_files"],
            ),
        )
    assert again.status_code == 303, again.text
    assert deliver_all(calm) == ["delivered"]
    [delivered] = sandbox.received_documents.values()
    assert delivered.sha256 == sha(documents["cv"])


def test_an_expired_reference_asks_to_attach_again_and_keeps_the_new_files(
    sqlite_site, sandbox, documents
):
    base, app = sqlite_site
    with httpx.Client(base_url=base, timeout=30) as http:
        refused = post(
            http, valid_fields(token_of(http), first_name=""), [("cv", documents["cv"], "cv.pdf")]
        )
        form = form_of(refused.text)
        # An hour and a second later (the rows' own time, as the sweep reads it).
        url = app.extensions["careers"].settings.database_url
        with sqlite3.connect(sqlite_path(url)) as db:
            db.execute("UPDATE kept_files SET created_at = created_at - ?", (KEPT_SECONDS + 1,))
        late = post(
            http,
            valid_fields(form["hidden"]["form_token"], kept_files=form["hidden"]["kept_files"]),
            [("cover-letter", documents["cover-letter"], "letter.docx")],
        )
    assert late.status_code == 422
    again = form_of(late.text)
    assert "deleted after 60 minutes" in again["notice"]
    assert "attach them again" in again["notice"]
    # What came with this post is kept in turn; nothing was stored or sent.
    assert [k["name"] for k in again["kept"]] == ["letter.docx"]
    assert again["required"]["cv"] is True
    assert app.extensions["careers"].outbox.summaries() == []
    assert sandbox.received_applications == []


def test_a_forged_or_borrowed_reference_is_refused(sqlite_site, sandbox, documents):
    base, app = sqlite_site
    with httpx.Client(base_url=base, timeout=30) as http:
        refused = post(
            http, valid_fields(token_of(http), first_name=""), [("cv", documents["cv"], "cv.pdf")]
        )
        form = form_of(refused.text)
        reference = form["hidden"]["kept_files"]
        tampered = reference[:-3] + ("AAA" if not reference.endswith("AAA") else "BBB")
        forged = post(http, valid_fields(form["hidden"]["form_token"], kept_files=tampered))
        # Another candidate's form (another rendering) cannot name these files.
        borrowed = post(http, valid_fields(token_of(http), kept_files=reference))
    assert forged.status_code == 403 and borrowed.status_code == 403
    assert app.extensions["careers"].outbox.summaries() == []
    assert kept_rows(app) == 1  # the owner's form still works for the rest of the hour
    assert list(app.extensions["careers"].spool.incoming.iterdir()) == []


def test_kept_files_are_swept_after_an_hour(site, sandbox, documents):
    base, app = site
    with httpx.Client(base_url=base, timeout=30) as http:
        post(http, valid_fields(token_of(http), first_name=""), [("cv", documents["cv"], "cv.pdf")])
    assert kept_rows(app) == 1
    clock = Clock()
    database = open_database(
        app.extensions["careers"].settings.database_url,
        clock=clock,
        spool=app.extensions["careers"].spool,
    )
    try:
        clock.advance(KEPT_SECONDS - 120)
        database.outbox.sweep()
        assert kept_rows(app) == 1  # not yet: the form may still come back
        clock.advance(240)
        assert database.outbox.sweep() >= 1
    finally:
        database.close()
    assert kept_rows(app) == 0 and kept_on_disk(app) == []


def test_a_reference_is_bound_to_its_form_and_good_for_an_hour():
    clock = Clock()
    tokens = KeptTokens("a test secret of enough length", clock=clock)
    secret = tokens.new_secret()
    reference = tokens.issue("batch-1", secret, "form-token-A", JOB, "en")
    found = tokens.check(reference, "form-token-A", JOB, "en")
    assert found.batch == "batch-1" and found.key == tokens.key(secret)
    for form_token, job, lang in (
        ("form-token-B", JOB, "en"),
        ("form-token-A", 1, "en"),
        ("form-token-A", JOB, "de"),
    ):
        with pytest.raises(Forged):
            tokens.check(reference, form_token, job, lang)
    with pytest.raises(Forged):
        KeptTokens("another secret of enough length").check(reference, "form-token-A", JOB, "en")
    clock.advance(KEPT_MAX_AGE + 1)
    with pytest.raises(Expired):
        tokens.check(reference, "form-token-A", JOB, "en")


def test_an_expired_form_keeps_its_files_for_the_new_one(
    sqlite_site, sandbox, documents, monkeypatch
):
    base, app = sqlite_site
    with httpx.Client(base_url=base, timeout=30) as http:
        token = token_of(http)
        monkeypatch.setattr(tokens, "TOKEN_MAX_AGE", -1)  # a form left open past its day
        late = post(http, valid_fields(token), [("cv", documents["cv"], "cv.pdf")])
        monkeypatch.undo()
        assert late.status_code == 422
        form = form_of(late.text)
        assert "open for a long time" in form["notice"] and "still attached" in form["notice"]
        assert "attach your documents again" not in form["notice"]
        assert [k["name"] for k in form["kept"]] == ["cv.pdf"]
        again = post(
            http,
            valid_fields(form["hidden"]["form_token"], kept_files=form["hidden"]["kept_files"]),
        )
        assert again.status_code == 303, again.text
    assert deliver_all(app) == ["delivered"]
    [delivered] = sandbox.received_documents.values()
    assert delivered.sha256 == sha(documents["cv"])


def test_a_resubmission_sent_twice_lands_on_its_receipt(sqlite_site, sandbox, documents):
    """The second post of the same form (a second click, a browser retrying a lost answer)
    finds its kept files gone into the outbox: it gets the first receipt, not "deleted"."""
    base, app = sqlite_site
    with httpx.Client(base_url=base, timeout=30) as http:
        refused = post(
            http, valid_fields(token_of(http), first_name=""), [("cv", documents["cv"], "cv.pdf")]
        )
        form = form_of(refused.text)
        fields = valid_fields(form["hidden"]["form_token"], kept_files=form["hidden"]["kept_files"])
        first = post(http, fields)
        second = post(http, fields)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(app.extensions["careers"].outbox.summaries()) == 1


def test_on_postgresql_another_host_takes_the_resubmission(
    make_app, sandbox_server, sandbox, tmp_path, pg_url, documents
):
    """The kept files live in the shared database: a post refused on one host is sent again
    through another, with a data directory (and spool) of its own."""
    url = as_url(pg_url)
    hosts = [
        make_app(tmp_path / f"host{i}", **apply_env(sandbox_server.url, tmp_path, database_url=url))
        for i in (1, 2)
    ]
    with live_server(hosts[0]) as base, httpx.Client(base_url=base, timeout=30) as http:
        refused = post(
            http, valid_fields(token_of(http), first_name=""), [("cv", documents["cv"], "cv.pdf")]
        )
    form = form_of(refused.text)
    with live_server(hosts[1]) as base, httpx.Client(base_url=base, timeout=30) as http:
        fields = valid_fields(form["hidden"]["form_token"], kept_files=form["hidden"]["kept_files"])
        assert post(http, fields).status_code == 303
    assert kept_rows(hosts[0]) == 0
    assert deliver_all(hosts[1]) == ["delivered"]
    [delivered] = sandbox.received_documents.values()
    assert delivered.sha256 == sha(documents["cv"])


def test_kept_files_are_told_in_every_language(
    make_app, sandbox_server, sandbox, tmp_path, documents
):
    app = make_app(
        **apply_env(sandbox_server.url, tmp_path), **every_language_env(sandbox, tmp_path)
    )
    client = app.test_client()
    seen = set()
    for lang in LANGUAGES:
        fields = valid_fields(open_form(client, lang=lang), first_name="")
        refused = send(client, fields, [("cv", documents["cv"], "cv.pdf")], lang=lang)
        assert refused.status_code == 422, lang
        form = form_of(refused.get_data(as_text=True))
        assert [k["name"] for k in form["kept"]] == ["cv.pdf"], lang
        note = form["summary"].strip().splitlines()[-1].strip()
        assert (note == KEPT_NOTE) == (lang == "en"), (lang, note)
        seen.add(note)
    assert len(seen) == len(LANGUAGES)  # each its own words
