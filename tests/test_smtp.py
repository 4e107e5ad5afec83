"""SmtpTransport and verify_server against a real SMTP server on loopback (the mail catcher):
delivery, an outage and its end, refused recipients, logins, STARTTLS and implicit TLS."""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from careers.mail.smtp import (
    MailPermanent,
    MailTransient,
    Refusal,
    SmtpTransport,
    verify_server,
)
from careers.sandbox.mailcatcher import MailCatcher

SENDER = "jobs@nordlicht.example"


def message(subject: str = "Hello") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = SENDER
    mail["To"] = "anna@example.org"
    mail["Subject"] = subject
    mail.set_content("A line of text.\n")
    return mail


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    with MailCatcher() as running:
        yield running


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context that trusts the test certificate (and verifies it)."""
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_a_message_arrives_with_its_envelope(catcher: MailCatcher) -> None:
    refused = SmtpTransport(catcher.smtp_url).send(
        message("Welcome"), ["anna@example.org", "ben@example.org"], SENDER
    )
    assert refused == []
    [mail] = catcher.wait_for(1)
    assert mail.mail_from == SENDER
    assert mail.rcpt_to == ("anna@example.org", "ben@example.org")
    assert mail.subject == "Welcome"
    assert mail.text == "A line of text.\n"


def test_an_outage_is_transient_and_the_next_attempt_gets_through(catcher: MailCatcher) -> None:
    transport = SmtpTransport(catcher.smtp_url)
    port = catcher.port
    catcher.stop()
    with pytest.raises(MailTransient, match="connection refused"):
        transport.send(message(), ["anna@example.org"], SENDER)
    catcher.start()
    assert catcher.port == port
    transport.send(message("After the outage"), ["anna@example.org"], SENDER)
    assert [m.subject for m in catcher.wait_for(1)] == ["After the outage"]


def test_a_refused_recipient_is_permanent_and_the_error_names_no_address(
    catcher: MailCatcher,
) -> None:
    catcher.refuse("gone@example.org")
    with pytest.raises(MailPermanent) as raised:
        SmtpTransport(catcher.smtp_url).send(message(), ["gone@example.org"], SENDER)
    assert "550" in str(raised.value)
    assert "@" not in str(raised.value)
    assert "\n" not in str(raised.value)
    assert catcher.messages() == []


def test_some_refused_recipients_are_returned_and_the_rest_get_the_mail(
    catcher: MailCatcher,
) -> None:
    catcher.refuse("gone@example.org")
    refused = SmtpTransport(catcher.smtp_url).send(
        message(), ["anna@example.org", "gone@example.org"], SENDER
    )
    assert refused == [Refusal("gone@example.org", 550, "550 5.1.1 Mailbox unavailable")]
    assert refused[0].permanent
    [mail] = catcher.wait_for(1)
    assert mail.rcpt_to == ("anna@example.org",)


def test_verify_server_describes_a_plain_server(catcher: MailCatcher) -> None:
    assert verify_server(catcher.smtp_url) == f"127.0.0.1:{catcher.port}, no TLS, no login"
    assert catcher.messages() == []


def test_verify_server_says_when_nothing_listens(catcher: MailCatcher) -> None:
    url = catcher.smtp_url
    catcher.stop()
    with pytest.raises(MailTransient, match=r"^127\.0\.0\.1:\d+: connection refused$"):
        verify_server(url, timeout=5)


def test_login_with_url_encoded_credentials() -> None:
    password = "p@ss:w/rd %"
    with MailCatcher(credentials=("mailer@nordlicht.example", password)) as catcher:
        assert "%40" in catcher.smtp_url  # user and password travel url-encoded
        assert verify_server(catcher.smtp_url).endswith(", no TLS, authenticated")
        SmtpTransport(catcher.smtp_url).send(message(), ["anna@example.org"], SENDER)
        assert len(catcher.wait_for(1)) == 1


def test_wrong_password_is_reported_without_the_password() -> None:
    with MailCatcher(credentials=("mailer", "right-password")) as catcher:
        url = f"smtp://mailer:wrong-password@127.0.0.1:{catcher.port}"
        with pytest.raises(MailTransient, match="authentication failed") as raised:
            verify_server(url)
        assert "wrong-password" not in str(raised.value)
        with pytest.raises(MailTransient, match="authentication failed"):
            SmtpTransport(url).send(message(), ["anna@example.org"], SENDER)
        assert catcher.messages() == []


def test_a_server_that_wants_a_login_says_so() -> None:
    with MailCatcher(credentials=("mailer", "secret")) as catcher:
        url = f"smtp://127.0.0.1:{catcher.port}"
        with pytest.raises(MailTransient, match="requires a login"):
            SmtpTransport(url).send(message(), ["anna@example.org"], SENDER)


def test_starttls_verifies_the_certificate_by_default(certificate: tuple[Path, Path]) -> None:
    with MailCatcher(tls=server_context(certificate)) as catcher:
        with pytest.raises(MailTransient, match="certificate not trusted"):
            SmtpTransport(catcher.smtp_url).send(message(), ["anna@example.org"], SENDER)
        with pytest.raises(MailTransient, match="certificate not trusted"):
            verify_server(catcher.smtp_url)
        assert catcher.messages() == []


def test_starttls_when_offered_then_login(certificate: tuple[Path, Path]) -> None:
    with MailCatcher(credentials=("mailer", "secret"), tls=server_context(certificate)) as catcher:
        transport = SmtpTransport(catcher.smtp_url, ssl_context=trusting(certificate))
        assert transport.verify(5) == f"127.0.0.1:{catcher.port}, STARTTLS, authenticated"
        transport.send(message("Encrypted"), ["anna@example.org"], SENDER)
        assert [m.subject for m in catcher.wait_for(1)] == ["Encrypted"]


def test_smtps_speaks_tls_from_the_start(certificate: tuple[Path, Path]) -> None:
    with MailCatcher(tls=server_context(certificate), implicit_tls=True) as catcher:
        assert catcher.smtp_url.startswith("smtps://")
        transport = SmtpTransport(catcher.smtp_url, ssl_context=trusting(certificate))
        assert transport.verify(5) == f"127.0.0.1:{catcher.port}, TLS, no login"
        transport.send(message("Implicit"), ["anna@example.org"], SENDER)
        assert [m.subject for m in catcher.wait_for(1)] == ["Implicit"]
        with pytest.raises(MailTransient, match="certificate not trusted"):
            SmtpTransport(catcher.smtp_url).send(message(), ["anna@example.org"], SENDER)


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://mail.example.com", "mail.example.com:587"),
        ("smtps://mail.example.com", "mail.example.com:465"),
        ("smtp://u:p@mail.example.com:2525", "mail.example.com:2525"),
    ],
)
def test_default_ports(url: str, server: str) -> None:
    assert SmtpTransport(url).server == server
