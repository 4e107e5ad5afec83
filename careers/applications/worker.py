"""Wiring for the delivery worker, shared by `careers worker`, `careers serve` and `demo`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ..config import Settings
from ..personio.recruiting import RecruitingClient
from .delivery import Deliverer
from .spool import Spool
from .sqlite_store import SQLiteOutbox
from .store import Outbox

log = logging.getLogger(__name__)


def open_outbox(settings: Settings) -> Outbox:
    """The configured outbox store (SQLite in this release, see store.py)."""
    return SQLiteOutbox.from_url(settings.database_url)


def open_spool(settings: Settings) -> Spool:
    return Spool(settings.data_dir / "spool")


def build_deliverer(
    settings: Settings,
    *,
    outbox: Outbox | None = None,
    spool: Spool | None = None,
    stop: threading.Event | None = None,
    on_outcome: Callable[[str], None] | None = None,
) -> Deliverer:
    """A Deliverer with its own Recruiting API client."""
    client = RecruitingClient(
        settings.personio_api_url,
        settings.personio_company_id,
        settings.personio_recruiting_token,
    )
    return Deliverer(
        outbox or open_outbox(settings),
        client,
        spool or open_spool(settings),
        settings.personio_rate_limit,
        stop=stop,
        on_outcome=on_outcome,
    )


def start_thread(deliverer: Deliverer) -> threading.Thread:
    """Run delivery in a daemon thread of this process (inside `serve` and `demo`)."""
    thread = threading.Thread(target=deliverer.run, name="careers-delivery", daemon=True)
    thread.start()
    return thread
