"""What tests that build the app share: its secret key, the fixture files, its services.

A helper module rather than conftest.py: pytest loads conftest.py itself (and may load it
under another name), so tests import shared names from here and conftest.py holds fixtures.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import httpx
from flask import Flask

from careers.jobs.store import FeedStore, StoredFeed
from careers.sandbox import SANDBOX_COMPANY_ID, SANDBOX_TOKEN

SECRET = "test-secret-key-0123456789abcdef"
FIXTURES = Path(__file__).parent / "fixtures"
# A request that a trusted proxy (loopback, by default) forwarded from a client over https.
BEHIND_TLS = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def catalogue_of(app: Flask):
    """The app's catalogue (tests reach services the way views do)."""
    return app.extensions["careers"].catalogue


def deployment_env(url: str, tmp_path: Path) -> dict[str, str]:
    """A deployment with Recruiting API credentials, all pointed at the sandbox at `url`."""
    return {
        "CAREERS_PERSONIO_FEED_URL": f"{url}/xml",
        "CAREERS_PERSONIO_API_URL": url,
        "CAREERS_PERSONIO_COMPANY_ID": SANDBOX_COMPANY_ID,
        "CAREERS_PERSONIO_RECRUITING_TOKEN": SANDBOX_TOKEN,
        "CAREERS_SECRET_KEY": SECRET,
        "CAREERS_DATA_DIR": str(tmp_path / "data"),
        # The sample board's offices called just "Remote" need a country for Google.
        "CAREERS_DEFAULT_COUNTRY": "DE",
        "CAREERS_COMPANY_NAME": "Nordlicht Robotics",
        "CAREERS_PRIVACY_URL": f"{url}/privacy-policy",
        # Most sample jobs state no pay: the pay checks have their own feed (tests/test_pay.py).
        "CAREERS_PAY_TRANSPARENCY": "off",
    }


def store_copy(url: str, data_dir: Path, language: str, age: float) -> None:
    """A last good copy of the sandbox's feed, as `serve` leaves it, confirmed `age` s ago."""
    body = httpx.get(f"{url}/xml", params={"language": language}).content
    version = hashlib.sha256(body).hexdigest()[:20]
    FeedStore(data_dir).save(StoredFeed(language, body, "", "", time.time() - age, version))
