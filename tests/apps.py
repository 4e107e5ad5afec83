"""What tests that build the app share: its secret key, the fixture files, its services.

A helper module rather than conftest.py: pytest loads conftest.py itself (and may load it
under another name), so tests import shared names from here and conftest.py holds fixtures.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

SECRET = "test-secret-key-0123456789abcdef"
FIXTURES = Path(__file__).parent / "fixtures"
# A request that a trusted proxy (loopback, by default) forwarded from a client over https.
BEHIND_TLS = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


def catalogue_of(app: Flask):
    """The app's catalogue (tests reach services the way views do)."""
    return app.extensions["careers"].catalogue
