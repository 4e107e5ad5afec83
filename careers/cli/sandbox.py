"""`careers sandbox`: the built-in Personio double alone, for trying faults by hand.

It brings the demo's mail catcher too, so a site started by hand against it can send mail
(CAREERS_SMTP_URL as printed) that shows up on the sandbox's /_sandbox/mail page.
"""

from __future__ import annotations

import logging
import sys
import threading

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
@click.option(
    "--accounts",
    default="",
    metavar="KEY,KEY,...",
    help="Serve several Personio accounts (feeds under /<key>/, one Recruiting API) and print"
    " a CAREERS_ACCOUNTS_FILE for them (docs/accounts.md).",
)
def command(port: int, host: str, smtp_port: int, token_lifetime: float, accounts: str) -> None:
    """Run the built-in Personio sandbox alone (feed and Recruiting API, with faults) and a
    mail catcher whose mail is shown on /_sandbox/mail."""
    from ..sandbox import serve

    logging.basicConfig(level=logging.INFO)
    keys = [key.strip() for key in accounts.split(",") if key.strip()]
    if keys:
        _serve_accounts(host, port, keys)
        return
    click.echo(f"Personio sandbox at http://{host}:{port}/xml?language=en")
    serve(host, port, smtp_port, token_lifetime=token_lifetime)


def _serve_accounts(host: str, port: int, keys: list[str]) -> None:
    """Several accounts in the foreground until Ctrl+C, with their accounts file printed."""
    from ..accounts import KEY
    from ..sandbox.accounts import sample_accounts, sample_file
    from ..sandbox.server import SandboxServer

    wrong = [key for key in keys if not KEY.fullmatch(key)]
    if wrong or len(set(keys)) != len(keys):
        raise click.BadParameter(
            "distinct keys of lower-case letters, digits and dashes", param_hint="--accounts"
        )
    accounts = sample_accounts(keys)
    server = SandboxServer(host=host, port=port, accounts=accounts).start()
    try:
        # Comments, so the output redirected to a file is the accounts file itself.
        click.echo(f"# Personio sandbox with {len(keys)} accounts on {server.url}/")
        click.echo("# An accounts file for them (CAREERS_ACCOUNTS_FILE):\n")
        click.echo(sample_file(accounts, server.url))
        sys.stdout.flush()
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
