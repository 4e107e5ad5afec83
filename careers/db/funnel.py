"""The funnel counters (careers/jobs/funnel.py's FunnelStore) over the `funnel_counts` table.

Every write adds deltas (`funnel_add`: INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n),
so any number of processes and hosts add their own shares and none overwrites another's.
The outbox counts submitted and delivered applications with `count_in`, inside the
transaction that stores or delivers them: each is counted exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ..jobs.funnel import Count, Key, Step, day_of
from .connector import Connector, Tx


def count_in(
    tx: Tx, step: Step, moment: float, position_id: int, channel: str, language: str
) -> None:
    """One more `step` on the day of `moment`, inside the caller's transaction."""
    tx.run(
        "funnel_add",
        day=day_of(moment),
        position_id=position_id,
        channel=channel,
        language=language,
        step=str(step),
        n=1,
    )


class FunnelCounts:
    """The stored counters, shared by every process and host."""

    def __init__(self, db: Connector) -> None:
        self.db = db

    def add(self, deltas: Mapping[Key, int]) -> None:
        rows = [
            {
                "day": key.day,
                "position_id": key.position_id,
                "channel": key.channel,
                "language": key.language,
                "step": str(key.step),
                "n": n,
            }
            for key, n in sorted(deltas.items(), key=lambda item: _order(item[0]))
            if n
        ]
        if not rows:
            return
        # Sorted: two hosts flushing at once take the rows' locks in the same order.
        with self.db.transaction(pipeline=True) as tx:
            tx.many("funnel_add", rows)

    def totals(self, since: date, until: date) -> list[Count]:
        with self.db.reading() as tx:
            found = tx.all("funnel_since", since=since.isoformat(), until=until.isoformat())
        return [
            Count(
                int(row["position_id"]),
                row["channel"],
                row["language"],
                Step(row["step"]),
                int(row["n"]),
            )
            for row in found
        ]


def _order(key: Key) -> tuple[str, int, str, str, str]:
    return (key.day, key.position_id, key.channel, key.language, str(key.step))
