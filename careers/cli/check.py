"""`careers check`: is the configuration right, and does every feed language answer?"""

from __future__ import annotations

import sys

import click

from ..personio.feed import FeedClient, FeedError, parse_feed
from .common import settings_or_exit


@click.command("check")
def command() -> None:
    """Validate the configuration and fetch every feed language; print what was found."""
    settings = settings_or_exit()
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
