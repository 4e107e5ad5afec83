"""`careers demo`: the whole product against the built-in Personio sandbox, no set-up."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from ..logs import configure_logging
from .common import services_or_exit, settings_or_exit

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


# What a visitor of the demo may set to try the product their way (the rest is the demo's).
YOURS = (
    "CAREERS_COMPANY_NAME",
    "CAREERS_FRAME_ANCESTORS",
    "CAREERS_LANGUAGES",
    "CAREERS_PUBLIC_URL",
    "CAREERS_LOGO_FILE",
    "CAREERS_STYLESHEET_FILE",
    "CAREERS_IMPRINT_URL",
    "CAREERS_TIMEZONE",
    # How soon a job published on the sandbox's page reaches the site and its job alerts.
    "CAREERS_FEED_TTL",
    "CAREERS_ALERT_INTERVAL",
)


@click.command("demo")
@click.option("--port", default=5000, show_default=True, help="Port of the career site.")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; 0.0.0.0 (as in the container image) puts the sandbox there too.",
)
@click.option(
    "--sandbox-port", default=0, help="Port of the Personio sandbox (default: any free one)."
)
def command(port: int, host: str, sandbox_port: int) -> None:
    """Run the whole product against the built-in Personio sandbox; no configuration needed.
    CAREERS_COMPANY_NAME, CAREERS_LANGUAGES, CAREERS_FRAME_ANCESTORS (to try the widget on
    another origin), the branding variables, CAREERS_TIMEZONE, and CAREERS_FEED_TTL and
    CAREERS_ALERT_INTERVAL (how soon a job published on the sandbox reaches job alerts)
    are taken from the environment when set. Mail the site sends is caught by the
    sandbox and shown on its mail page."""
    from werkzeug.serving import run_simple

    from .. import create_app
    from ..sandbox import SANDBOX_COMPANY_ID, SANDBOX_TOKEN, SandboxServer

    configure_logging()
    # On every interface (in a container, so that `docker run -p` can publish them) the site
    # and the sandbox's pages are visited as loopback on the publishing host: the links and
    # the pinned public address name 127.0.0.1 (CAREERS_PUBLIC_URL can say otherwise).
    everywhere = host == "0.0.0.0"
    shown = "127.0.0.1" if everywhere else host
    # The sandbox catches the demo's mail too: confirmations, digests and operator alerts
    # appear on its mail page instead of leaving the machine.
    sandbox = SandboxServer(
        host="0.0.0.0" if everywhere else "127.0.0.1", port=sandbox_port, catch_mail=True
    )
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
        # The sample board's "Open Application" job and the sandbox's referral channel
        # (docs/referrals.md).
        "CAREERS_OPEN_APPLICATION_JOB": "1843801",
        "CAREERS_REFERRAL_CHANNEL": "2004",
        "CAREERS_SMTP_URL": sandbox.mail.smtp_url,
        "CAREERS_MAIL_FROM": "Nordlicht Robotics Careers <jobs@nordlicht-robotics.example>",
        "CAREERS_ALERT_EMAIL": "recruiting-ops@nordlicht-robotics.example",
        # A digest a minute, so a job published on the sandbox page reaches subscribers
        # while one watches; production's default is an hour.
        "CAREERS_ALERT_INTERVAL": "60",
        "CAREERS_PUBLIC_URL": f"http://{shown}:{port}",
    }
    env.update({name: os.environ[name] for name in YOURS if os.environ.get(name, "").strip()})
    settings = settings_or_exit(demo=True, env=env)
    for language in settings.languages:
        if not sandbox.sandbox.positions(language):
            # The sample company writes English and German; in any other language its jobs
            # arrive untranslated (title and offices, no text), as Personio sends them, and
            # the site borrows the English text, marked as such (docs/personio.md §1.1).
            english = sandbox.sandbox.positions("en")
            sandbox.sandbox.set_positions(language, [replace(p, descriptions=()) for p in english])
    services = services_or_exit(settings)
    app = create_app(services=services)
    workers = services.start_workers()
    click.echo(f"careers demo: Personio sandbox at {sandbox.url}")
    click.echo(f"careers demo: what 'Personio' received: {sandbox.url}/_sandbox/applications")
    click.echo(
        f"careers demo: mail the site sent (job alerts, operator alerts): {sandbox.url}/_sandbox/mail"
    )
    click.echo(f"careers demo: career site at http://{shown}:{port}/  (Ctrl+C to stop)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        workers.set()
        sandbox.stop()
