"""`careers sandbox`: the built-in Personio double alone, for trying faults by hand.

It brings the demo's mail catcher too, so a site started by hand against it can send mail
(CAREERS_SMTP_URL as printed) that shows up on the sandbox's /_sandbox/mail page.
"""

from __future__ import annotations

import logging

import click


@click.command("sandbox")
@click.option("--port", default=5001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--smtp-port",
    default=8025,
    show_default=True,
    help="Port of the mail catcher (0: any free port).",
)
@click.option(
    "--token-lifetime",
    default=86400.0,
    show_default=True,
    type=click.FloatRange(min=1),
    help="Seconds a v2 token from /v2/auth/token stays valid (short, to try expiry).",
)
def command(port: int, host: str, smtp_port: int, token_lifetime: float) -> None:
    """Run the built-in Personio sandbox alone (feed and Recruiting API, with faults) and a
    mail catcher whose mail is shown on /_sandbox/mail."""
    from ..sandbox import serve

    logging.basicConfig(level=logging.INFO)
    click.echo(f"Personio sandbox at http://{host}:{port}/xml?language=en")
    serve(host, port, smtp_port, token_lifetime=token_lifetime)
