"""What the funnel tests share (test_funnel.py, test_funnel_hosts.py): browsers' and
crawlers' User-Agents, and the stored counters as a plain mapping."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

from careers.jobs.funnel import FunnelStore

BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"  # a person
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)
CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "WhatsApp/2.23.20.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " HeadlessChrome/131.0.0.0 Safari/537.36",
    "curl/8.11.0",
    "python-httpx/0.28.1",
    "",
)


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def stored(store: FunnelStore) -> dict[tuple[int, str, str, str], int]:
    """Today's stored counts as {(position id, channel, language, step): n}."""
    day = datetime.now(UTC).date()
    return {
        (c.position_id, c.channel, c.language, str(c.step)): c.n for c in store.totals(day, day)
    }


def attribution_of(page: str) -> str:
    """The signed attribution the form carries (empty without one)."""
    found = re.search(r'name="attribution" value="([^"]*)"', page)
    return unescape(found[1]) if found else ""
