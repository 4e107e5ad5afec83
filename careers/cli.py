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
    """Load settings and open the data directory; on a problem print one line each, exit 2."""
    from .web import prepare_storage

    try:
        settings = load_settings(env, demo=demo)
        prepare_storage(settings)
        return settings
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"careers: configuration error: {problem}", err=True)
        sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Career site and job widget for companies that recruit with Personio."""


DEMO_FORM = """\
# The demo's extra questions: custom applicant attributes the sandbox knows.
[system]
phone = "optional"
location = "optional"
available_from = "optional"
salary_expectations = "optional"

[[field]]
id = "custom_attribute_1002"
type = "select"
required = true
label = { en = "How did you hear about us?", de = "Wie hast du von uns erfahren?" }
options = [ { value = "linkedin", label = "LinkedIn" },
            { value = "friend", label = { en = "A friend", de = "Freunde" } },
            { value = "job_board", label = { en = "A job board", de = "Eine Jobbörse" } } ]

[[field]]
id = "custom_attribute_1001"
type = "text"
label = { en = "Link to your portfolio or GitHub", de = "Link zu deinem Portfolio oder GitHub" }
"""


@main.command()
@click.option("--port", default=5000, show_default=True, help="Port of the career site.")
@click.option("--host", default="127.0.0.1", show_default=True)
def demo(port: int, host: str) -> None:
    """Run the whole product against the built-in Personio sandbox; no configuration needed."""
    from werkzeug.serving import run_simple

    from . import create_app
    from .applications.worker import build_deliverer, start_thread
    from .personio.sandbox import SANDBOX_COMPANY_ID, SANDBOX_TOKEN, SandboxServer

    configure_logging()
    sandbox = SandboxServer(port=0)
    sandbox.start()
    data_dir = Path(os.environ.get("CAREERS_DATA_DIR", "./instance")) / "demo"
    data_dir.mkdir(parents=True, exist_ok=True)
    form_file = data_dir / "form.toml"
    form_file.write_text(DEMO_FORM, encoding="utf-8")
    env = {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox.url}/xml",
        "CAREERS_PERSONIO_API_URL": sandbox.url,
        "CAREERS_PERSONIO_COMPANY_ID": SANDBOX_COMPANY_ID,
        "CAREERS_PERSONIO_RECRUITING_TOKEN": SANDBOX_TOKEN,
        "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
        "CAREERS_LANGUAGES": "en,de",
        "CAREERS_DATA_DIR": str(data_dir),
        "CAREERS_FEED_TTL": "60",
        "CAREERS_FORM_FILE": str(form_file),
        "CAREERS_PRIVACY_URL": f"{sandbox.url}/privacy-policy",
        "CAREERS_REMOTE_COUNTRIES": "Germany,Austria",
        "CAREERS_CHANNELS": "linkedin=2001,stepstone=2002,indeed=2003",
    }
    settings = _settings_or_exit(demo=True, env=env)
    app = create_app(settings)
    services = app.extensions["careers"]
    deliverer = build_deliverer(
        settings,
        outbox=services.outbox,
        spool=services.spool,
        on_outcome=services.metrics.delivered,
    )
    start_thread(deliverer)
    click.echo(f"careers demo: Personio sandbox at {sandbox.url}")
    click.echo(f"careers demo: what 'Personio' received: {sandbox.url}/_sandbox/applications")
    click.echo(f"careers demo: career site at http://{host}:{port}/  (Ctrl+C to stop)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        deliverer.stop.set()
        sandbox.stop()


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option(
    "--no-worker", is_flag=True, help="Do not deliver applications here (run `careers worker`)."
)
def serve(host: str, port: int, workers: int, no_worker: bool) -> None:
    """Production server (gunicorn); configuration from CAREERS_* variables."""
    from .server import run_gunicorn

    settings = _settings_or_exit()
    configure_logging()
    run_gunicorn(settings, host=host, port=port, workers=workers, deliver=not no_worker)


@main.command()
def worker() -> None:
    """Deliver queued applications to Personio until stopped (SIGTERM or Ctrl+C)."""
    import signal
    import threading

    from .applications.worker import build_deliverer

    settings = _settings_or_exit()
    if settings.read_only:
        click.echo(
            "careers: configuration error: CAREERS_PERSONIO_COMPANY_ID and "
            "CAREERS_PERSONIO_RECRUITING_TOKEN are needed to deliver applications",
            err=True,
        )
        sys.exit(2)
    configure_logging()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    build_deliverer(settings, stop=stop).run()


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


from .outbox_cli import outbox  # noqa: E402  (the group lives in its own module)

main.add_command(outbox)

if __name__ == "__main__":  # pragma: no cover
    main()
