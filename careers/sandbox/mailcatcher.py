"""A mail server on loopback that keeps what it receives: the sandbox's inbox.

`careers demo` and `careers sandbox` point CAREERS_SMTP_URL at it and show the mails on
`/_sandbox/mail`, so the job-alert flow can be followed without a mail server; the tests
send to it over real SMTP. It can refuse chosen recipients (550, as a server does for an
unknown mailbox), require a login, and go down and come back on the same port (an outage).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

__all__ = ["CaughtMail", "MailCatcher"]


@dataclass(frozen=True)
class CaughtMail:
    """One received mail: the envelope as sent over SMTP and the parsed message."""

    id: int
    mail_from: str
    rcpt_to: tuple[str, ...]
    message: EmailMessage
    received_at: float

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def part(self, subtype: str) -> str:
        """The text of the text/plain ("plain") or text/html ("html") part, or ""."""
        body = self.message.get_body(preferencelist=(subtype,))
        return body.get_content() if isinstance(body, EmailMessage) else ""

    @property
    def text(self) -> str:
        return self.part("plain")

    @property
    def html(self) -> str:
        return self.part("html")

    @property
    def unsubscribe_url(self) -> str:
        """The http(s) address of List-Unsubscribe (RFC 2369 angle brackets removed), or ""."""
        for item in str(self.message.get("List-Unsubscribe", "")).split(","):
            item = item.strip()
            if item.startswith("<") and item.endswith(">") and item[1:5] == "http":
                return item[1:-1]
        return ""

    @property
    def one_click(self) -> bool:
        """Whether the mail offers RFC 8058 one-click unsubscribe."""
        post = str(self.message.get("List-Unsubscribe-Post", "")).strip()
        return bool(self.unsubscribe_url) and post == "List-Unsubscribe=One-Click"

    def as_dict(self) -> dict[str, Any]:
        """JSON for `/_sandbox/mail.json`."""
        return {
            "id": self.id,
            "mail_from": self.mail_from,
            "rcpt_to": list(self.rcpt_to),
            "received_at": self.received_at,
            "subject": self.subject,
            "headers": [[name, str(value)] for name, value in self.message.items()],
            "text": self.text,
            "html": self.html,
            "list_unsubscribe": self.unsubscribe_url,
            "one_click": self.one_click,
        }


class _Handler:
    """aiosmtpd's hooks, run on the catcher's event-loop thread."""

    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # Required login without aiosmtpd's auth_required, which warns when TLS is not
        # required too (a catcher on loopback has no certificate).
        if self.catcher.credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.catcher.refuses(address):
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.catcher.keep(envelope.mail_from or "", envelope.rcpt_tos, raw)
        return "250 OK: caught"

    def authenticate(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        """PLAIN and LOGIN against the catcher's one user."""
        wanted = self.catcher.credentials
        ok = (
            wanted is not None
            and isinstance(auth_data, LoginPassword)
            and (auth_data.login, auth_data.password) == (wanted[0].encode(), wanted[1].encode())
        )
        # handled=False: aiosmtpd answers 535 itself (its default True means "replied").
        return AuthResult(success=ok, handled=False)


class _BoundController(Controller):
    """aiosmtpd's Controller on a socket bound beforehand, so port 0 yields a known port
    (Controller itself connects to the port it was given to wake the server up)."""

    def __init__(self, handler: _Handler, sock: socket.socket, **smtp: Any) -> None:
        self._sock = sock
        host, port = sock.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **smtp)

    def _create_server(self) -> Any:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class MailCatcher:
    """An SMTP server on `host` keeping every mail in memory; thread-safe. `stop()` then
    `start()` is an outage: connections are refused meanwhile, and the port stays the same."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        credentials: tuple[str, str] | None = None,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        """`tls` (a server context with a certificate) offers STARTTLS, or with
        `implicit_tls` speaks TLS from the first byte (smtps://)."""
        if implicit_tls and tls is None:
            raise ValueError("implicit_tls needs a tls context")
        self.host, self.port = host, port
        self.credentials = credentials
        self.tls, self.implicit_tls = tls, implicit_tls
        self._changed = threading.Condition()
        self._mails: list[CaughtMail] = []
        self._refused: set[str] = set()
        self._next_id = 1
        self._controller: _BoundController | None = None

    # -- running ---------------------------------------------------------------------------

    def start(self) -> MailCatcher:
        """Listen (port 0 = any free port, kept for later starts); a no-op when running."""
        if self._controller is not None:
            return self
        # aiosmtpd logs every recipient at INFO and a deprecation of its own at WARNING.
        quiet = logging.getLogger("mail.log")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.ERROR)
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET)
        # The connections of the last run linger in TIME_WAIT on this port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
            sock.listen(64)
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        handler = _Handler(self)
        controller = _BoundController(
            handler,
            sock,
            ssl_context=self.tls if self.implicit_tls else None,
            tls_context=None if self.implicit_tls else self.tls,
            authenticator=handler.authenticate,
            auth_require_tls=False,  # loopback, usually without a certificate
            server_hostname="sandbox-mail",
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening; received mails are kept."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def smtp_url(self) -> str:
        """What CAREERS_SMTP_URL should be to send here."""
        if not self.port:
            raise RuntimeError("MailCatcher has not been started")
        login = ""
        if self.credentials is not None:
            from urllib.parse import quote

            login = f"{quote(self.credentials[0], safe='')}:{quote(self.credentials[1], safe='')}@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://{login}{host}:{self.port}"

    def __enter__(self) -> MailCatcher:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- behaviour -------------------------------------------------------------------------

    def refuse(self, address: str) -> None:
        """Answer RCPT TO for this address with 550 from now on."""
        with self._changed:
            self._refused.add(address.lower())

    def allow(self, address: str) -> None:
        """Accept this address again."""
        with self._changed:
            self._refused.discard(address.lower())

    def refuses(self, address: str) -> bool:
        with self._changed:
            return address.lower() in self._refused

    # -- the inbox -------------------------------------------------------------------------

    def keep(self, mail_from: str, rcpt_to: Iterable[str], raw: bytes) -> CaughtMail:
        """Store a received message (the handler calls this for every DATA)."""
        # SMTP carries CRLF; parsed with \n line ends, parts read as a client shows them.
        message = BytesParser(policy=policy.default).parsebytes(raw.replace(b"\r\n", b"\n"))
        assert isinstance(message, EmailMessage)
        with self._changed:
            mail = CaughtMail(self._next_id, mail_from, tuple(rcpt_to), message, time.time())
            self._next_id += 1
            self._mails.append(mail)
            self._changed.notify_all()
        return mail

    def messages(self) -> list[CaughtMail]:
        """Every mail caught so far, oldest first."""
        with self._changed:
            return list(self._mails)

    def get(self, mail_id: int) -> CaughtMail | None:
        with self._changed:
            return next((m for m in self._mails if m.id == mail_id), None)

    def clear(self) -> None:
        """Forget every mail (refused addresses stay refused)."""
        with self._changed:
            self._mails.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[CaughtMail]:
        """Until at least `count` mails are caught; TimeoutError saying how many came."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._mails) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{len(self._mails)} of {count} mails arrived within {timeout:g} s"
                    )
                self._changed.wait(left)
            return list(self._mails)
