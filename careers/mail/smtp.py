"""Sending mail over SMTP, with errors that tell "try again later" from "never".

`CAREERS_SMTP_URL` names the server: `smtp://user:password@host:587` upgrades to TLS with
STARTTLS when the server offers it, `smtps://…` speaks TLS from the first byte (port 465).
Certificates are verified (`ssl.create_default_context()`), and a password is never sent over
a connection that is not encrypted, except to a server on this machine (the sandbox's mail
catcher).

The mail worker retries `MailTransient` with backoff and gives up on `MailPermanent`. Only
the message or its recipient can be permanently wrong: an unreachable server, a TLS failure,
refused credentials or a refused sender are the server's or the configuration's problems, and
the mail waits for them to be fixed. Error messages are one line, name neither the password
nor any address (a server's reply often repeats the recipient's), and may be stored and logged.
"""

from __future__ import annotations

import ipaddress
import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}  # message submission (RFC 6409, RFC 8314)
TIMEOUT = 30.0
_ADDRESS = re.compile(r"[^\s@<>\"'(),;:]+@[^\s@<>\"'(),;:]+")


class MailError(Exception):
    """Mail could not be handed to the server; the message is one line without secrets."""


class MailTransient(MailError):
    """The server could not be reached or said "not now" (4xx): try again later."""


class MailPermanent(MailError):
    """The server refused the message or every recipient for good (5xx): never retry."""


@dataclass(frozen=True)
class Refusal:
    """A recipient the server refused while it accepted the mail for others."""

    address: str
    code: int
    reply: str  # the server's words, with any address in them replaced

    @property
    def permanent(self) -> bool:
        return self.code >= 500


@dataclass(frozen=True)
class _Server:
    """What a CAREERS_SMTP_URL says."""

    scheme: str
    host: str
    port: int
    username: str
    password: str

    @property
    def name(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def local(self) -> bool:
        """A server on this machine: nobody can listen on the way to it."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def _parse(url: str) -> _Server:
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise MailError("the SMTP URL must look like smtp://user:password@host:587 or smtps://…")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise MailError("the SMTP URL has a port that is not a number") from None
    return _Server(
        parts.scheme,
        parts.hostname,
        port,
        unquote(parts.username or ""),
        unquote(parts.password or ""),
    )


def _scrubbed(text: str) -> str:
    """A server's reply as one line without addresses in it."""
    return " ".join(_ADDRESS.sub("<address>", text).split())[:200]


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {_scrubbed(text)}".strip()


class SmtpTransport:
    """Hands messages to the server of a CAREERS_SMTP_URL, one connection per message."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self._server = _parse(url)
        self.timeout = timeout
        # A context of one's own only for tests with a private CA; certificates are verified.
        self._context = ssl_context or ssl.create_default_context()
        self._local_hostname = local_hostname

    @property
    def server(self) -> str:
        """`host:port`, for logs and `careers check` (no credentials)."""
        return self._server.name

    def send(self, message: EmailMessage, to: Sequence[str], sender: str) -> list[Refusal]:
        """Send `message` to the envelope recipients `to` from the envelope sender `sender`.

        Returns the recipients the server refused while it took the mail for the others
        (an empty list when it took it for all). Raises MailPermanent when it refused every
        recipient for good or refused the message itself, MailTransient when it is
        unreachable, answered 4xx to all, or the connection or login failed."""
        if not to:
            raise MailPermanent("no recipients")
        try:
            with self._connect(self.timeout) as client:
                refused = client.send_message(message, from_addr=sender, to_addrs=list(to))
        except smtplib.SMTPRecipientsRefused as exc:
            replies = [(code, _reply(code, text)) for code, text in exc.recipients.values()]
            if all(code >= 500 for code, _ in replies):
                raise MailPermanent(f"every recipient refused: {replies[0][1]}") from None
            raise MailTransient(f"recipients deferred: {replies[0][1]}") from None
        except smtplib.SMTPDataError as exc:
            kind = MailPermanent if exc.smtp_code >= 500 else MailTransient
            raise kind(f"message refused: {_reply(exc.smtp_code, exc.smtp_error)}") from None
        except smtplib.SMTPSenderRefused as exc:
            # Our own CAREERS_MAIL_FROM or missing credentials: wrong for every mail until
            # it is fixed, so no mail is given up for it.
            reply = _reply(exc.smtp_code, exc.smtp_error)
            if exc.smtp_code == 530:
                raise MailTransient(
                    f"{self.server} requires a login (user:password in the SMTP URL): {reply}"
                ) from None
            raise MailTransient(f"sender (CAREERS_MAIL_FROM) refused: {reply}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise _connection_error(self._server, exc) from None
        return [Refusal(a, code, _reply(code, text)) for a, (code, text) in refused.items()]

    def verify(self, timeout: float) -> str:
        """Connect, log in if configured, and say how; see `verify_server`."""
        try:
            with self._connect(timeout) as client:
                tls = self._server.scheme == "smtps" or client.sock_is_tls
                code, text = client.noop()
                if code != 250:
                    raise MailTransient(f"{self.server} answered NOOP with {_reply(code, text)}")
        except (smtplib.SMTPException, OSError) as exc:
            raise _connection_error(self._server, exc) from None
        security = {"smtps": "TLS"}.get(self._server.scheme, "STARTTLS" if tls else "no TLS")
        login = "authenticated" if self._server.username else "no login"
        return f"{self.server}, {security}, {login}"

    def _connect(self, timeout: float) -> _Client:
        """An open, greeted, encrypted when possible and logged-in connection."""
        server = self._server
        client: _Client
        if server.scheme == "smtps":
            client = _Client(
                server.host,
                server.port,
                local_hostname=self._local_hostname,
                timeout=timeout,
                context=self._context,
                tls=True,
            )
        else:
            client = _Client(
                server.host, server.port, local_hostname=self._local_hostname, timeout=timeout
            )
        try:
            client.ehlo_or_helo_if_needed()
            if server.scheme == "smtp" and client.has_extn("starttls"):
                client.starttls(context=self._context)
                client.sock_is_tls = True
                client.ehlo()
            if server.username:
                if not client.sock_is_tls and not server.local:
                    raise MailTransient(
                        f"{server.name} offers no STARTTLS: the password is not sent"
                        " unencrypted (use smtps:// or a server with STARTTLS)"
                    )
                client.login(server.username, server.password)
        except BaseException:
            client.close()
            raise
        return client


class _Client(smtplib.SMTP):
    """smtplib's client, plain or implicit TLS, knowing whether its socket is encrypted."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        local_hostname: str | None,
        timeout: float,
        context: ssl.SSLContext | None = None,
        tls: bool = False,
    ) -> None:
        self.sock_is_tls = tls
        self._tls_context = context
        super().__init__(host, port, local_hostname=local_hostname, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        """Like smtplib.SMTP_SSL for smtps://, so one class serves both schemes."""
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        if self.sock_is_tls and self._tls_context is not None:
            return self._tls_context.wrap_socket(sock, server_hostname=host)
        return sock


def _connection_error(server: _Server, exc: BaseException) -> MailError:
    """Anything that went wrong before the message was taken, as one transient line."""
    name = server.name
    if isinstance(exc, MailError):
        return exc
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reply = _reply(exc.smtp_code, exc.smtp_error)
        return MailTransient(f"{name}: authentication failed ({reply})")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return MailTransient(f"{name}: {_scrubbed(str(exc))} (login needs AUTH)")
    if isinstance(exc, smtplib.SMTPResponseException):
        return MailTransient(f"{name} answered {_reply(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return MailTransient(f"{name} closed the connection")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return MailTransient(f"{name}: TLS certificate not trusted ({exc.verify_message})")
    if isinstance(exc, ssl.SSLError):
        return MailTransient(f"{name}: TLS failed ({_scrubbed(exc.reason or str(exc))})")
    if isinstance(exc, ConnectionRefusedError):
        return MailTransient(f"{name}: connection refused")
    if isinstance(exc, TimeoutError):
        return MailTransient(f"{name}: timed out")
    if isinstance(exc, socket.gaierror):
        return MailTransient(f"{name}: host not found")
    return MailTransient(f"{name}: {_scrubbed(str(exc)) or type(exc).__name__}")


def verify_server(url: str, timeout: float = 10.0) -> str:
    """Connect, greet, upgrade to TLS when offered, log in when configured, NOOP and QUIT;
    a one-line description such as 'mail.example.com:587, STARTTLS, authenticated', or
    MailError with the reason (`careers check`)."""
    return SmtpTransport(url, timeout=timeout).verify(timeout)
