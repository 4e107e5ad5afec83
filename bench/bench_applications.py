"""Application benchmarks: run by hand (`python -m bench.bench_applications`), not in CI.

Prints three figures, each against a baseline or budget measured in the same run:
1. the server worker's peak RSS while it accepts one application of just under 64 MB of
   files, above its idle RSS — target <= 32 MB;
2. accepted applications/s (about 2 MB each) vs. raw POSTs of the same bytes to a bare WSGI
   sink that reads and drops them (bench/sink.py), both under `careers serve`'s own gunicorn
   options (2 workers x SERVE_THREADS, gthread), as the median of alternating rounds —
   target >= 0.5x on SQLite, >= 0.35x on PostgreSQL;
3. a backlog delivered to the sandbox's Recruiting API at its rate limit: share of the
   request budget used and 429s received — target >= 90 %, no 429.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench import measure
from bench.measure import cpu_seconds, rounds_line, spread, tree_cpu_seconds
from bench.server import free_port
from bench.sink import WORKERS, start
from careers.applications.delivery import WINDOW_MARGIN, Deliverer, budget_window
from careers.applications.model import Application, Attachment
from careers.applications.spool import Spool
from careers.applications.store import Outbox
from careers.db.database import Database, open_database
from careers.personio.recruiting import RecruitingClient
from careers.personio.vocabulary import DocumentCategory
from careers.ratelimit import RateLimit
from careers.sandbox.server import SANDBOX_COMPANY_ID, SANDBOX_TOKEN, SandboxServer

JOB = 1842958  # Embedded Systems Engineer, Hamburg (sample data)
MB = 1_000_000  # Personio's (and upload.py's) megabyte
MIB = 1024 * 1024
BOUNDARY = "----CareersBenchBoundary7MA4YWxkTrZu0gW"


def app_env(sandbox_url: str, data_dir: str) -> dict[str, str]:
    """An app that takes applications (the default form: a CV is required)."""
    return {
        "CAREERS_PERSONIO_FEED_URL": f"{sandbox_url}/xml",
        "CAREERS_PERSONIO_API_URL": sandbox_url,
        "CAREERS_PERSONIO_COMPANY_ID": SANDBOX_COMPANY_ID,
        "CAREERS_PERSONIO_RECRUITING_TOKEN": SANDBOX_TOKEN,
        "CAREERS_SECRET_KEY": "bench-secret-0123456789",
        "CAREERS_DATA_DIR": data_dir,
        "CAREERS_PRIVACY_URL": "https://nordlicht.example/privacy",
        "CAREERS_MIN_FILL_SECONDS": "0",
        "CAREERS_SUBMIT_RATE_LIMIT": "100000/60",
    }


# -- inputs ------------------------------------------------------------------------------------


def write_pdf(path: Path, size: int) -> Path:
    """A valid one-page PDF of about `size` bytes: the bulk is an unreferenced binary stream
    (as scanned pages are), written 1 MiB at a time, with exact xref offsets."""
    text = b"BT /F1 18 Tf 72 720 Td (Lebenslauf) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
    ]
    padding = max(0, size - 1024)
    block = random.Random(size).randbytes(MIB)
    offsets = []
    with path.open("wb") as out:
        out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        for number, body in enumerate(objects, start=1):
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
        offsets.append(out.tell())
        out.write(b"6 0 obj\n<< /Length %d >>\nstream\n" % padding)
        for start in range(0, padding, MIB):
            out.write(block[: min(MIB, padding - start)])
        out.write(b"\nendstream\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 7\n0000000000 65535 f \n")
        out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
        out.write(b"trailer\n<< /Size 7 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return path


def fields_for(token: str, n: int) -> dict[str, str]:
    return {
        "form_token": token,
        "website": "",
        "first_name": "Jürgen",
        "last_name": f"Müller {n}",
        "email": f"juergen.mueller+{n}@example.com",
        "phone": "+49 40 1234567",
        "message": "Hallo!\nIch freue mich auf eure Antwort.",
        "consent": "yes",
    }


def encode_fields(fields: dict[str, str]) -> bytes:
    """The text parts of a multipart body as browsers write them (files follow)."""
    return b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    )


def encode_files(files: list[tuple[str, str, bytes]]) -> bytes:
    """The file parts and the closing boundary."""
    out = bytearray()
    for name, filename, data in files:
        out += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    return bytes(out + f"--{BOUNDARY}--\r\n".encode())


def token(client: httpx.Client) -> str:
    """A fresh form token, fetched the way a candidate's browser gets one."""
    page = client.get(f"/en/jobs/{JOB}/apply")
    assert page.status_code == 200, page.status_code
    marker = 'name="form_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


# -- 1. memory -----------------------------------------------------------------------------------


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def worker_pids(master: int, count: int = WORKERS) -> list[int]:
    """gunicorn's workers: the master's children."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                stat = (entry / "stat").read_text()
            except (OSError, ValueError):
                continue
            if entry.name.isdigit() and int(stat.rpartition(")")[2].split()[1]) == master:
                found.append(int(entry.name))
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise RuntimeError("no gunicorn workers")


class PeakRss(threading.Thread):
    """Polls processes' VmRSS every couple of milliseconds and keeps each one's largest value."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True)
        self.pids, self.samples = pids, 0
        self.peak = dict.fromkeys(pids, 0)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], status_kib(pid, "VmRSS"))
            self.samples += 1
            time.sleep(0.002)


def bench_memory(proc: subprocess.Popen, base: str, tmp: Path) -> None:
    """Streaming to disk should keep the worker flat whatever the size of the upload."""
    pids = worker_pids(proc.pid)
    small = write_pdf(tmp / "small.pdf", 200_000)
    sizes = {"cv": 19_990_000, "cover-letter": 19_990_000, "certificate": 19_990_000}
    sizes["other"] = 63_900_000 - sum(sizes.values())
    big = {name: write_pdf(tmp / f"{name}.pdf", size) for name, size in sizes.items()}
    total = sum(path.stat().st_size for path in big.values())
    with httpx.Client(base_url=base, timeout=120) as client:
        for n in range(3 * len(pids)):  # warm-up of every worker: libmagic, templates, SQLite
            with small.open("rb") as fh:
                answer = client.post(
                    f"/en/jobs/{JOB}/apply",
                    data=fields_for(token(client), n),
                    files={"cv": ("cv.pdf", fh, "application/pdf")},
                )
            assert answer.status_code == 303, answer.status_code
        fields = fields_for(token(client), 99)
        time.sleep(0.5)
        idle = {pid: status_kib(pid, "VmRSS") for pid in pids}
        try:  # "5" resets VmHWM to the current RSS (Linux >= 4.0)
            for pid in pids:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
            hwm_reset = True
        except OSError:
            hwm_reset = False
        sampler = PeakRss(pids)
        sampler.start()
        handles = {name: path.open("rb") for name, path in big.items()}
        try:
            started = time.perf_counter()
            # httpx streams file objects in 64 KiB chunks: the client never holds 64 MB.
            answer = client.post(
                f"/en/jobs/{JOB}/apply",
                data=fields,
                # The default form asks for a CV and a cover letter (issue 23): the other
                # files go with the CV, whose field takes several.
                files=[
                    (
                        "cover-letter" if n == "cover-letter" else "cv",
                        (f"{n}.pdf", fh, "application/pdf"),
                    )
                    for n, fh in handles.items()
                ],
            )
            elapsed = time.perf_counter() - started
        finally:
            for fh in handles.values():
                fh.close()
            sampler.done.set()
            sampler.join()
        assert answer.status_code == 303, (answer.status_code, answer.text[:500])
    # The worker that took the request is the one whose RSS rose most.
    peaks = {
        pid: max(sampler.peak[pid], status_kib(pid, "VmHWM") if hwm_reset else 0) for pid in pids
    }
    pid = max(pids, key=lambda p: peaks[p] - idle[p])
    idle_kib, peak = idle[pid], peaks[pid]
    print(
        f"[1] one application with {len(big)} PDFs, {total / MB:.2f} MB of files, accepted (303) "
        f"in {elapsed:.2f} s ({total / MB / elapsed:.0f} MB/s): worker RSS idle {idle_kib / 1024:.1f} "
        f"MiB, peak {peak / 1024:.1f} MiB, peak - idle {(peak - idle_kib) / 1024:.1f} MiB "
        f"(target <= 32 MB; {sampler.samples} samples"
        f"{', VmHWM reset before the request' if hwm_reset else ''})"
    )


# -- 2. throughput -------------------------------------------------------------------------------


def post_all(base: str, path: str, forms: list[bytes], files: bytes, clients: int, status: int):
    """POST every form (text parts + the shared file parts) once from `clients` keep-alive
    connections; the wall time taken."""
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    failures: list[object] = []

    def run(share: list[bytes]) -> None:
        with httpx.Client(base_url=base, timeout=60) as client:
            for fields in share:
                answer = client.post(path, content=fields + files, headers=headers)
                if answer.status_code != status:
                    failures.append(answer.status_code)

    threads = [threading.Thread(target=run, args=(forms[i::clients],)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    assert not failures, failures[:5]
    return elapsed


def bench_throughput(
    base: str,
    sink: str,
    tmp: Path,
    n: int,
    clients: int,
    rounds: int,
    servers: tuple[int, int] = (0, 0),
    database_url: str = "",
) -> None:
    """What parsing, checking and storing durably cost on top of receiving the bytes.

    `servers`: the pids of careers' and the sink's gunicorn masters, whose CPU time (their
    workers' included) is taken per round; on PostgreSQL, so is that of the database's
    backends serving this database (the WAL writer and checkpointer, shared with whatever
    else the server runs, are not counted)."""
    cv = write_pdf(tmp / "cv-1.5mb.pdf", 1_500_000).read_bytes()
    letter = write_pdf(tmp / "letter-0.5mb.pdf", 500_000).read_bytes()
    files = encode_files(
        [("cv", "Lebenslauf.pdf", cv), ("cover-letter", "Anschreiben.pdf", letter)]
    )
    warm = 2 * clients
    # Fetching the form is part of a candidate's flow, but not of what is measured here:
    # every token is fetched first. Raw and accept runs alternate (which goes first too);
    # each round gives one ratio, and the median of them counts: the machine is shared.
    with httpx.Client(base_url=base, timeout=30) as client:
        forms = [
            encode_fields(fields_for(token(client), 1000 + i)) for i in range(warm + rounds * n)
        ]
    apply_path = f"/en/jobs/{JOB}/apply"
    post_all(base, apply_path, forms[:warm], files, clients, 303)
    post_all(sink, "/upload", forms[:warm], files, clients, 200)
    raws: list[float] = []
    accepts: list[float] = []
    cpu: dict[str, list[float]] = {"raw": [], "accept": [], "database": []}
    for r in range(rounds):
        batch = forms[warm + r * n : warm + (r + 1) * n]
        for side in ("raw", "accept") if r % 2 == 0 else ("accept", "raw"):
            if side == "raw":
                before = tree_cpu_seconds(servers[1])
                raws.append(post_all(sink, "/upload", batch, files, clients, 200))
                cpu["raw"].append((tree_cpu_seconds(servers[1]) - before) / n)
            else:
                backends = _backends(database_url)
                before, db_before = tree_cpu_seconds(servers[0]), cpu_seconds(backends)
                accepts.append(post_all(base, apply_path, batch, files, clients, 303))
                cpu["accept"].append((tree_cpu_seconds(servers[0]) - before) / n)
                backends = [pid for pid in _backends(database_url) if pid in backends]
                cpu["database"].append((cpu_seconds(backends) - db_before) / n)
    in_order = [raw / accept for raw, accept in zip(raws, accepts, strict=True)]
    ratios = sorted(in_order)
    median = statistics.median(ratios)
    raw, accept = sorted(raws)[len(raws) // 2], sorted(accepts)[len(accepts) // 2]
    size = (len(forms[-1]) + len(files)) / MB
    print(
        f"[2] {n} applications of {size:.2f} MB (2 PDFs), {clients} clients, {rounds} "
        f"alternating rounds: accepted {n / accept:.1f}/s ({n * size / accept:.0f} MB/s, median "
        f"round); bare sink {n / raw:.1f}/s ({n * size / raw:.0f} MB/s); ratio median "
        f"{median:.2f}x, rounds {' '.join(f'{x:.2f}' for x in ratios)} (target >= "
        f"{'0.35' if database_url else '0.5'}x)"
    )
    ms = {side: [v * 1000 for v in values] for side, values in cpu.items()}
    # Server CPU per request, sink / careers (the database's backends counted with careers).
    totals = [a + d for a, d in zip(ms["accept"], ms["database"] or [0.0] * rounds, strict=True)]
    cpu_ratios = [r / t for r, t in zip(ms["raw"], totals, strict=True)]
    print(
        f"[2] {measure.describe_pinning()}; server CPU per request: sink "
        f"{spread(ms['raw'], ' ms', 1)}, careers {spread(ms['accept'], ' ms', 1)}"
        + (f" + database backends {spread(ms['database'], ' ms', 1)}" if database_url else "")
        + f"; ratio {spread(cpu_ratios)}"
    )
    store = "pg" if database_url else "sqlite"
    print(rounds_line(f"P3.{store}.rate", in_order))
    print(rounds_line(f"P3.{store}.cpu", cpu_ratios))
    print(rounds_line(f"P3.{store}.ms", ms["raw"] + totals))


def _backends(database_url: str) -> list[int]:
    """The pids of the PostgreSQL backends connected to the bench's database ([] on SQLite)."""
    if not database_url:
        return []
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


# -- 3. backlog delivery -------------------------------------------------------------------------


class RecordingTransport(httpx.HTTPTransport):
    """The deliverer's transport, noting when each request left and what status came back."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[float, int]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        sent = time.time()
        response = super().handle_request(request)
        self.log.append((sent, response.status_code))
        return response


def queue_backlog(outbox: Outbox, spool: Spool, count: int, pdf: bytes) -> None:
    """`count` accepted applications with one CV each, as the form would have stored them."""
    for n in range(count):
        path, fh = spool.new_file()
        with fh:
            fh.write(pdf)
        outbox.add(
            Application(
                position_id=JOB,
                language="en",
                first_name="Jürgen",
                last_name=f"Müller {n}",
                email=f"backlog+{n}@example.com",
                message="Hallo!",
                documents=(Attachment(DocumentCategory.CV, "Lebenslauf.pdf", str(path), len(pdf)),),
            )
        )  # the outbox takes the file from the spool's incoming/


def open_outbox(tmp: Path, database_url: str) -> Database:
    """SQLite in `tmp`, or the PostgreSQL at `database_url` (emptied first)."""
    if not database_url:
        return open_database(
            f"sqlite:///{tmp / f'backlog-{time.monotonic_ns()}.db'}", spool=Spool(tmp / "spool")
        )
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    return open_database(database_url)


def bench_backlog(
    tmp: Path, count: int, seconds: int, window: float, database_url: str = ""
) -> None:
    """After an outage the backlog should drain at Personio's full budget, never beyond it."""
    # Two requests per application (upload, create); never let the backlog run dry.
    backlog = int((window / seconds + 2) * count / 2) + 1
    database = open_outbox(tmp, database_url)
    outbox = database.outbox
    spool = Spool(tmp / "spool")
    queue_backlog(outbox, spool, backlog, write_pdf(tmp / "backlog.pdf", 100_000).read_bytes())
    transport = RecordingTransport()
    outcomes: list[str] = []
    stop = threading.Event()
    with SandboxServer() as server:
        server.sandbox.set_rate_limit((count, float(seconds)))
        client = RecruitingClient(
            server.url, SANDBOX_COMPANY_ID, SANDBOX_TOKEN, transport=transport
        )
        budget = database.limiter(count, budget_window(RateLimit(count, seconds)))
        deliverer = Deliverer(outbox, client, budget, stop=stop, on_outcome=outcomes.append)
        thread = threading.Thread(target=deliverer.run, kwargs={"idle_wait": 0.05})
        thread.start()
        while not transport.log:
            time.sleep(0.001)
        t0 = transport.log[0][0]
        time.sleep(max(0.0, t0 + window - time.time()))
        stop.set()
        thread.join()
        client.close()
        logged = [r for r in server.sandbox.requests if r["path"].startswith("/v1/recruiting/")]
        received = len(server.sandbox.received_applications)
        uploads = len(server.sandbox.received_documents)
    database.close()
    # One delivery thread sends one request at a time, so the sandbox's log (arrival times,
    # what Personio would see) and the transport's (statuses) pair up in order.
    assert len(logged) == len(transport.log), (len(logged), len(transport.log))
    arrivals = [(r["time"], status) for r, (_, status) in zip(logged, transport.log, strict=True)]
    start = arrivals[0][0]
    inside = [t for t, _ in arrivals if t < start + window]
    refused = sum(1 for _, status in arrivals if status == 429)
    admitted = [t for t, status in arrivals if status < 400]
    # The most a client may send in [start, start + window) under a sliding window: `count`
    # at once, then `count` more each time a window has passed.
    budget = math.ceil(window / seconds) * count
    # Steady state: a saturating client's request i and request i + count lie exactly one
    # window apart; the mean gap says how close to that the deliverer keeps the pipe.
    gaps = [admitted[i + count] - admitted[i] for i in range(len(admitted) - count)]
    sustained = seconds / (sum(gaps) / len(gaps)) if gaps else float("nan")
    print(
        f"[3] {'PostgreSQL' if database_url else 'SQLite'}: backlog of {backlog} applications (1 PDF each) at {count}/{seconds} s for {window:g} s "
        f"from the first request: {len(inside)} requests of a budget of {budget:g} → "
        f"{100 * len(inside) / budget:.1f} % used (target >= 90 %); sustained over whole "
        f"windows {100 * sustained:.1f} % (pacing margin {WINDOW_MARGIN} s per window); "
        f"429s: {refused} (target 0); 'retry' outcomes: {outcomes.count('retry')}; "
        f"delivered {outcomes.count('delivered')} applications, sandbox stored {received} "
        f"applications and {uploads} documents"
    )


def rate(value: str) -> tuple[int, int]:
    """COUNT/SECONDS in whole numbers, as CAREERS_PERSONIO_RATE_LIMIT is written."""
    count, _, seconds = value.partition("/")
    return int(count), int(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_applications",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--applications", type=int, default=200, help="POSTs per throughput run")
    parser.add_argument("--clients", type=int, default=4, help="client threads for [2]")
    parser.add_argument("--rounds", type=int, default=5, help="raw/accept run pairs for [2]")
    parser.add_argument("--personio-rate", type=rate, default=(20, 60), help="COUNT/SECONDS")
    parser.add_argument("--window", type=float, default=180.0, help="delivery seconds for [3]")
    parser.add_argument(
        "--quick", action="store_true", help="3 x 50 applications; [3] at 20/6 for 30 s"
    )
    parser.add_argument("--skip", default="", help="comma list of figures to skip, e.g. 3")
    parser.add_argument(
        "--postgres",
        default="",
        help="a PostgreSQL URL (its public schema is emptied!): [2] and [3] also run on it",
    )
    args = parser.parse_args()
    if args.quick:
        args.applications, args.rounds, args.personio_rate, args.window = 50, 3, (20, 6), 30.0
    skip = set(args.skip.split(","))
    measure.pin_client()  # the clients off the servers' cores (when bench/run.py pins)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        stores = [""] + ([args.postgres] if args.postgres else [])
        if not {"1", "2"} <= skip:
            (tmp / "client").mkdir()
            for database_url in stores:
                env = app_env(sandbox_url="", data_dir=str(tmp / f"server{len(database_url)}"))
                with SandboxServer() as sandbox:
                    env = app_env(sandbox.url, env["CAREERS_DATA_DIR"])
                    if database_url:
                        open_outbox(tmp, database_url).close()  # an empty schema
                        env["CAREERS_DATABASE_URL"] = database_url
                    print(f"-- store: {'PostgreSQL' if database_url else 'SQLite'}")
                    proc, base = start("bench.app:app", env, free_port(), "/healthz")
                    sink_proc, sink = start("bench.sink:app", {}, free_port(), "/")
                    try:
                        if "1" not in skip and not database_url:
                            bench_memory(proc, base, tmp / "client")
                        if "2" not in skip:
                            bench_throughput(
                                base,
                                sink,
                                tmp / "client",
                                args.applications,
                                args.clients,
                                args.rounds,
                                (proc.pid, sink_proc.pid),
                                database_url,
                            )
                    finally:
                        for server in (proc, sink_proc):
                            server.terminate()
                            server.wait(timeout=30)
        if "3" not in skip:
            count, seconds = args.personio_rate
            for database_url in stores:
                bench_backlog(tmp, count, seconds, args.window, database_url)


if __name__ == "__main__":
    main()
