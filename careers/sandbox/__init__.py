"""The built-in Personio double: XML feed and Recruiting API v1 on loopback, with faults.

Only the command line (`careers demo`, `careers sandbox`), the tests and the benchmarks use
it; the product itself talks to whatever `CAREERS_PERSONIO_*` points at.
"""

from __future__ import annotations

from .recruiting import DEFAULT_RATE_LIMIT, SANDBOX_COMPANY_ID, SANDBOX_TOKEN
from .server import Sandbox, SandboxServer, serve

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "SANDBOX_COMPANY_ID",
    "SANDBOX_TOKEN",
    "Sandbox",
    "SandboxServer",
    "serve",
]
