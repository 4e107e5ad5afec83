"""What the database may raise, whatever it stores: a kernel module (it imports nothing), so
the web layer, job alerts, the mail worker and delivery catch these without importing the
storage layer (careers/db/ imports the domain's types, so the domain must not import it)."""

from __future__ import annotations


class SchemaMismatch(Exception):
    """The database's schema is not the one this release expects: one line for the operator."""


class StoreUnavailable(Exception):
    """The database cannot be reached right now (it may come back by itself)."""
