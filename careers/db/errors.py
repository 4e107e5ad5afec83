"""What a store may raise whatever it stores: neutral, so the web layer, job alerts and the
workers catch them without importing the outbox."""

from __future__ import annotations


class SchemaMismatch(Exception):
    """The database's schema is not the one this release expects: one line for the operator."""


class StoreUnavailable(Exception):
    """The database cannot be reached right now (it may come back by itself)."""
