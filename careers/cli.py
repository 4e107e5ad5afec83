"""`careers` command line: demo, serve, check, sandbox (SPEC §2)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from .config import ConfigError, Settings, load_settings
from .logs import configure_logging


def _settings_or_exit(*, demo: bool = False, env: dict[str, str] | None = None) -> Settings:
    """Load settings; on bad configuration print one line per problem and exit 2."""
    try:
        return load_settings(env, demo=demo)
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"careers: configuration error: {problem}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Career site and job widget for companies that recruit with Personio."""


@main.command()
@click.option("--port", default=5000, show_default=True, help="Port of the career site.")
@click.option("--host", default="127.0.0.1", show_default=True)
def demo(port: int, host: str) -> None:
    """Run the whole product against the built-in Personio sandbox; no configuration needed."""
    from werkzeug.serving import run_simple

    from . import create_app
    from .personio.sandbox import SandboxServer

    configure_logging()
    sandbox = SandboxServer(port=0)
    sandbox.start()
    data_dir = Path(os.environ.get("CAREERS_DATA_DIR", "./instance")) / "demo"
    env = {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox.url}/xml",
        "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
        "CAREERS_LANGUAGES": "en,de",
        "CAREERS_DATA_DIR": str(data_dir),
        "CAREERS_FEED_TTL": "60",
    }
    settings = _settings_or_exit(demo=True, env=env)
    app = create_app(settings)
    click.echo(f"careers demo: Personio sandbox at {sandbox.url}")
    click.echo(f"careers demo: career site at http://{host}:{port}/  (Ctrl+C to stop)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        sandbox.stop()


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Production server (gunicorn); configuration from CAREERS_* variables."""
    from .server import run_gunicorn

    settings = _settings_or_exit()
    configure_logging()
    run_gunicorn(settings, host=host, port=port, workers=workers)


@main.command()
def check() -> None:
    """Validate the configuration and fetch every feed language; print what was found."""
    from .personio.feed import FeedClient, FeedError, parse_feed

    settings = _settings_or_exit()
    click.echo(f"configuration ok; feed {settings.personio_feed_url}")
    mode = (
        "read-only (apply on Personio)" if settings.read_only else "applications via Recruiting API"
    )
    click.echo(f"mode: {mode}")
    client = FeedClient(settings.personio_feed_url)
    failed = False
    try:
        for lang in settings.languages:
            try:
                result = client.fetch(lang)
                positions = parse_feed(result.body or b"")
            except FeedError as exc:
                failed = True
                click.echo(f"feed {lang}: FAILED ({exc.reason}) {exc.detail}")
                continue
            with_text = sum(1 for p in positions if p.descriptions)
            click.echo(
                f"feed {lang}: {len(positions)} positions ({with_text} with description text)"
            )
    finally:
        client.close()
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--port", default=5001, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
def sandbox(port: int, host: str) -> None:
    """Run the built-in Personio sandbox alone (feed with fault injection)."""
    from .personio.sandbox import serve as serve_sandbox

    logging.basicConfig(level=logging.INFO)
    click.echo(f"Personio sandbox at http://{host}:{port}/xml?language=en")
    serve_sandbox(host, port)


if __name__ == "__main__":  # pragma: no cover
    main()
