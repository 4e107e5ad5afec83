"""HTML for humans running the demo: `/_sandbox/applications`, what "Personio" received, and
`/_sandbox/mail`, what the mail catcher caught."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.utils import send_file
from werkzeug.wrappers import Request, Response

from .channels import DEFAULT_CHANNELS


class _Document(Protocol):
    """What the page needs of a stored upload (recruiting.ReceivedDocument)."""

    @property
    def size(self) -> int: ...


_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}"
    "article{border:1px solid #ccc;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}"
    "dt{font-weight:600}dd{margin:0 0 .4rem 1rem}.message{white-space:pre-wrap}"
    "th,td{text-align:left;padding:.1rem .6rem .1rem 0;vertical-align:top}"
    "pre{white-space:pre-wrap;background:#f5f6f8;padding:.6rem;border-radius:4px}"
    ".note{background:#fff6dc;padding:.3rem .6rem;border-radius:4px}"
)
# The pages run no script and load nothing; the mail page's one form posts to the sandbox.
_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
_URL = re.compile(r"https?://[^\s<>\"']*[^\s<>\"'.,;:!?)]")

if TYPE_CHECKING:
    from .mailcatcher import CaughtMail


def applications_response(
    applications: list[dict[str, Any]],
    documents: Mapping[str, _Document],
    title_of: Callable[[int], str | None],
) -> Response:
    """The page as a response that runs no script and loads nothing."""
    page = applications_page(applications, documents, title_of)
    return _html(page)


def _html(page: str) -> Response:
    response = Response(page, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = _CSP
    return response


def download_response(path: Path, filename: str, mimetype: str, request: Request) -> Response:
    """A stored upload as an attachment under its original name, never rendered inline."""
    response = send_file(
        path,
        request.environ,
        mimetype=mimetype,
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def applications_page(
    applications: list[dict[str, Any]],
    documents: Mapping[str, _Document],
    title_of: Callable[[int], str | None],
) -> str:
    """The whole page; every value from a request is escaped."""
    items = "".join(_application(a, documents, title_of) for a in applications)
    count = len(applications)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Received applications</title><style>{_STYLE}</style></head><body>"
        f'<h1>Received applications</h1><p>{count} so far, newest first. <a href="/">Sandbox home</a>'
        ' · <a href="/_sandbox/applications.json">JSON</a></p>'
        f"{items or '<p>Nothing received yet.</p>'}</body></html>\n"
    )


def _application(
    record: dict[str, Any],
    documents: Mapping[str, _Document],
    title_of: Callable[[int], str | None],
) -> str:
    """One application as an <article>."""
    body = record["body"]
    job_id = body.get("job_position_id")
    title = title_of(job_id) if isinstance(job_id, int) else None
    name = f"{body.get('first_name', '')} {body.get('last_name', '')}".strip()
    rows = [
        ("Email", escape(str(body.get("email", "")))),
        ("Position", f"{escape(str(job_id))} – {escape(title or '(not in the feed)')}"),
        ("Received", escape(_when(record["time"])) + f" · request {escape(record['id'])}"),
        # Which Recruiting API it came through: v1 with the key, v2 with an OAuth token.
        ("API", escape(str(record.get("api", "v1")))),
    ]
    if body.get("message"):
        rows.append(("Message", f'<div class="message">{escape(body["message"])}</div>'))
    if body.get("attributes"):
        cells = "".join(
            f"<tr><th>{escape(str(a.get('id')))}</th><td>{escape(str(a.get('value')))}</td></tr>"
            for a in body["attributes"]
        )
        rows.append(("Attributes", f"<table>{cells}</table>"))
    if body.get("tags"):
        rows.append(("Tags", escape(", ".join(map(str, body["tags"])))))
    for key, label in (
        ("recruiting_channel_id", "Channel id"),
        ("external_posting_id", "External posting id"),
        ("application_date", "Application date"),
        ("phase", "Phase"),
    ):
        if body.get(key) is not None:
            shown = str(body[key])
            if key == "recruiting_channel_id" and body[key] in DEFAULT_CHANNELS:
                shown += f" ({DEFAULT_CHANNELS[body[key]]})"  # "2004 (Employee referral)"
            rows.append((label, escape(shown)))
    if body.get("files"):
        rows.append(
            ("Files", "<ul>" + "".join(_file(f, documents) for f in body["files"]) + "</ul>")
        )
    details = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    return f"<article><h2>{escape(name)}</h2><dl>{details}</dl></article>"


def _file(item: dict[str, Any], documents: Mapping[str, _Document]) -> str:
    """A file reference with its category, size and a download link."""
    uuid = str(item.get("uuid", ""))
    document = documents.get(uuid)
    name = escape(str(item.get("original_filename", "")))
    category = escape(str(item.get("category", "")))
    if document is None:
        return f"<li>{category}: {name} (upload no longer stored)</li>"
    link = f'<a href="/_sandbox/documents/{escape(uuid)}">{name}</a>'
    return f"<li>{category}: {link} ({_size(document.size)})</li>"


def _size(size: int) -> str:
    """Bytes for people."""
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _when(timestamp: float) -> str:
    """Local time, to the second."""
    return datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M:%S")


# -- /_sandbox/mail ---------------------------------------------------------------------------


def mail_response(mails: Sequence[CaughtMail], smtp_url: str, notes: Mapping[int, str]) -> Response:
    """The caught mails, newest first, with what a mail client would offer."""
    items = "".join(_mail(m, notes.get(m.id)) for m in reversed(mails))
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Caught mail</title><style>{_STYLE}</style></head><body>"
        f"<h1>Caught mail</h1><p>{len(mails)} so far, newest first, sent to "
        f"<code>{escape(smtp_url)}</code>. "
        '<a href="/">Sandbox home</a> · <a href="/_sandbox/mail.json">JSON</a></p>'
        f"{items or '<p>No mail yet.</p>'}</body></html>\n"
    )
    return _html(page)


def mail_html_response(mail: CaughtMail) -> Response:
    """A mail's HTML part as its recipient's client shows it: no script, nothing loaded."""
    response = Response(mail.html, content_type="text/html; charset=utf-8")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'"
    )
    return response


def _mail(mail: CaughtMail, note: str | None) -> str:
    """One mail as an <article>."""
    headers = mail.message
    rows = [
        ("From", escape(str(headers.get("From", "")))),
        ("To", escape(", ".join(mail.rcpt_to))),
        (
            "Date",
            escape(str(headers.get("Date", ""))) + f" · caught {escape(_when(mail.received_at))}",
        ),
    ]
    if headers.get("Content-Language"):
        rows.append(("Language", escape(str(headers["Content-Language"]))))
    for name in ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
        if headers.get(name):
            rows.append((name, f"<code>{escape(str(headers[name]))}</code>"))
    details = "".join(f"<dt>{label}</dt><dd>{value}</dd>" for label, value in rows)
    actions = [f'<a href="/_sandbox/mail/{mail.id}/html">HTML part</a>'] if mail.html else []
    if mail.one_click:
        # Posted by the sandbox itself, as a mail provider does (RFC 8058): no cookies, no
        # browser, the body "List-Unsubscribe=One-Click".
        actions.append(
            f'<form method="post" action="/_sandbox/mail/{mail.id}/unsubscribe" '
            'style="display:inline"><button type="submit">Unsubscribe with one click'
            "</button></form>"
        )
    done = f'<p class="note">{escape(note)}</p>' if note else ""
    return (
        f'<article id="mail-{mail.id}"><h2>{escape(mail.subject)}</h2><dl>{details}</dl>'
        f"<p>{' · '.join(actions)}</p>{done}<pre>{linkify(mail.text)}</pre></article>"
    )


def linkify(text: str) -> str:
    """Escaped text whose http(s) addresses are links (as mail clients show plain text)."""
    parts, last = [], 0
    for match in _URL.finditer(text):
        url = escape(match.group())
        parts += [escape(text[last : match.start()]), f'<a href="{url}" rel="noreferrer">{url}</a>']
        last = match.end()
    return "".join([*parts, escape(text[last:])])
