"""RateLimit: "at most N events per S seconds", the value of the CAREERS_*_RATE_LIMIT settings.

A value type on its own, below the settings and the domain: config.py parses it, and the
delivery worker (applications/delivery.py) spends Personio's budget by it, without either
importing the other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    """ "N/S": at most `count` events per `seconds`."""

    count: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.seconds}"
