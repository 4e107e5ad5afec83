"""What storing documents costs PostgreSQL: run by hand (`python -m bench.bench_store`).

P3 on PostgreSQL measures a whole HTTP request, where the worker's CPU sets the pace and
the database's share is hard to see. This measures the store alone, in one process with
`--clients` threads, each application (two files, 1.5 MB and 0.5 MB of random bytes, as
incompressible as sealed chunks) stored in a transaction of its own, on a throwaway
database, three ways in alternating rounds:

- `whole`:  the bytes as one bytea per MiB in one binary COPY, which PostgreSQL cuts into
  rows of its TOAST table (how careers stored chunks before schema step 009);
- `pieces`: the same bytes as rows of 8,000 bytes that stay in the table's pages (step 009;
  psycopg's `write_row` for each, so this side's client does more than `whole`'s);
- `outbox`: careers' own `Outbox.add` (the key, the application, its documents, the sealed
  chunks in pieces, the form's nonce), reading each file from the spool as the form left it.

For each, applications stored per second and the CPU time of every PostgreSQL process per
application (the backends, and the WAL writer and checkpointer, whose work the layout
changes too: so keep the server otherwise idle), as the median and min–max of the rounds.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from bench.measure import cpu_seconds, load, spread
from bench.server import fresh_database
from careers.applications.model import Application, Attachment
from careers.applications.spool import Spool
from careers.db.chunks import CHUNK_BYTES, PIECE_BYTES
from careers.db.database import Database, open_database
from careers.personio.vocabulary import DocumentCategory

FILES = (1_500_000, 500_000)  # the bytes of P3's two PDFs
BARE = """
CREATE TABLE bare_whole (id bigint, seq integer, data bytea, PRIMARY KEY (id, seq));
ALTER TABLE bare_whole ALTER COLUMN data SET STORAGE EXTERNAL;
CREATE TABLE bare_pieces (id bigint, seq integer, piece integer, data bytea,
    PRIMARY KEY (id, seq, piece)) WITH (toast_tuple_target = 8160);
ALTER TABLE bare_pieces ALTER COLUMN data SET STORAGE EXTERNAL;
"""
EMPTY = (
    "TRUNCATE bare_whole, bare_pieces, applications, documents, document_chunks,"
    " application_keys, submissions"
)


def postgres_pids() -> list[int]:
    """Every process of the PostgreSQL server on this machine."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if Path(f"/proc/{entry}/comm").read_text().strip() == "postgres":
                    found.append(int(entry))
            except OSError:
                continue
    return found


def copy_bare(
    conn: psycopg.Connection, table: str, app: int, files: list[bytes], size: int
) -> None:
    """One application's files as rows of at most `size` bytes, in one binary COPY."""
    columns = "id, seq, data" if table == "bare_whole" else "id, seq, piece, data"
    with (
        conn.transaction(),
        conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int8", "int4", "bytea"] if table == "bare_whole" else
                       ["int8", "int4", "int4", "bytea"])  # fmt: skip
        seq = 0
        for data in files:
            for start in range(0, len(data), CHUNK_BYTES):
                chunk = data[start : start + CHUNK_BYTES]
                if table == "bare_whole":
                    copy.write_row((app, seq, chunk))
                else:
                    for piece, at in enumerate(range(0, len(chunk), PIECE_BYTES)):
                        copy.write_row((app, seq, piece, chunk[at : at + PIECE_BYTES]))
                seq += 1


def timed(work: Callable[[int], None], n: int, clients: int) -> tuple[float, float]:
    """(applications per second, PostgreSQL CPU ms per application) for `work(i)`, i < n."""
    before = {pid: cpu_seconds([pid]) for pid in postgres_pids()}
    started = time.perf_counter()

    def share(k: int) -> None:
        for i in range(k, n, clients):
            work(i)

    threads = [threading.Thread(target=share, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    # Backends the pool started during the run count from zero.
    used = sum(cpu_seconds([pid]) - before.get(pid, 0.0) for pid in postgres_pids())
    return n / elapsed, used * 1000 / n


def application(spool: Spool, files: list[bytes], i: int) -> Application:
    """An application as the form hands it to the outbox: its files in the spool."""
    documents = []
    for j, data in enumerate(files):
        path, handle = spool.new_file()
        with handle:
            handle.write(data)
        category = DocumentCategory.CV if j == 0 else DocumentCategory.COVER_LETTER
        documents.append(Attachment(category, f"file-{j}.pdf", str(path), len(data)))
    return Application(
        position_id=1842907,
        language="en",
        first_name="Bench",
        last_name="Mark",
        email=f"bench-{i}@example.com",
        documents=tuple(documents),
    )


def measure_sides(
    url: str, n: int, clients: int, rounds: int
) -> dict[str, list[tuple[float, float]]]:
    """Each side's (applications per second, PostgreSQL CPU ms per application), round by
    round, on the empty database at `url`."""
    files = [os.urandom(size) for size in FILES]
    results: dict[str, list[tuple[float, float]]] = {"whole": [], "pieces": [], "outbox": []}
    db = open_database(url)
    conns = [psycopg.connect(url, autocommit=True) for _ in range(clients)]
    try:
        conns[0].execute(BARE)
        with tempfile.TemporaryDirectory() as tmp:
            spool = Spool(Path(tmp) / "spool")
            for side in results:  # warm-up: new tables' first pages, the pool's connections
                timed(_work(side, -n, files, conns, spool, db, n // 4), n // 4, clients)
            for r in range(rounds):
                sides = list(results)
                for side in sides[r % 3 :] + sides[: r % 3]:  # each side first in turn
                    work = _work(side, r * n, files, conns, spool, db, n)
                    # Every side starts from empty tables, as a drained outbox is (rounds
                    # into tables grown by earlier ones ran up to half as fast), and with
                    # nothing left to write out: not the database's dirty pages, nor the
                    # 400 MB of spool files just made, which the disk would otherwise be
                    # busy with while the side is timed.
                    conns[0].execute(EMPTY)
                    conns[0].execute("CHECKPOINT")
                    os.sync()
                    results[side].append(timed(work, n, clients))
    finally:
        db.close()
        for conn in conns:
            conn.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_store",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--applications", type=int, default=200, help="per side and round")
    parser.add_argument("--clients", type=int, default=4, help="threads storing at once")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three sides")
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL to create the throwaway database on",
    )
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"load before: {load()}", flush=True)
    with fresh_database(args.postgres) as url:
        results = measure_sides(url, args.applications, args.clients, args.rounds)
    print(f"{args.applications} applications of {sum(FILES) / 1e6:.1f} MB per side and round, "
          f"{args.clients} clients, {args.rounds} rounds:")  # fmt: skip
    for side, values in results.items():
        rates, cpus = [v[0] for v in values], [v[1] for v in values]
        print(
            f"  {side:7s} {spread(rates, '/s', 1)}, PostgreSQL CPU per application "
            f"{spread(cpus, ' ms', 2)}; rounds {' '.join(f'{v:.0f}' for v in rates)}/s"
        )
    for label, a, b in (
        ("pieces / whole", "pieces", "whole"),
        ("outbox / whole", "outbox", "whole"),
    ):
        rate = [x[0] / y[0] for x, y in zip(results[a], results[b], strict=True)]
        cpu = [x[1] / y[1] for x, y in zip(results[a], results[b], strict=True)]
        print(f"  {label}: rate {spread(rate)}, PostgreSQL CPU {spread(cpu)}")
    print(f"load after: {load()}")


def _work(
    side: str,
    base: int,
    files: list[bytes],
    conns: list[psycopg.Connection],
    spool: Spool,
    db: Database,
    n: int,
) -> Callable[[int], None]:
    """What one side does for application `i`; the thread storing `i` (i % clients, see
    `timed`) has a connection of its own for the bare sides."""
    if side == "outbox":
        apps = [application(spool, files, base + i) for i in range(n)]  # not timed

        def add(i: int) -> None:
            db.outbox.add(apps[i], nonce=f"bench-{base + i}", fingerprint="bench")

        return add
    table, size = ("bare_whole", CHUNK_BYTES) if side == "whole" else ("bare_pieces", PIECE_BYTES)

    def copy(i: int) -> None:
        copy_bare(conns[i % len(conns)], table, base + i, files, size)

    return copy


if __name__ == "__main__":
    main()
