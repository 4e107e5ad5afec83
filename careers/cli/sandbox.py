"""`careers sandbox`: the built-in Personio double alone, for trying faults by hand."""

from __future__ import annotations

import logging

import click


@click.command("sandbox")
@click.option("--port", default=5001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def command(port: int, host: str) -> None:
    """Run the built-in Personio sandbox alone (feed and Recruiting API, with faults)."""
    from ..sandbox import serve

    logging.basicConfig(level=logging.INFO)
    click.echo(f"Personio sandbox at http://{host}:{port}/xml?language=en")
    serve(host, port)
