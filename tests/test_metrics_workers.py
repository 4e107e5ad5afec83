"""/metrics under `careers serve` with several workers: counters never go back, whichever
worker answers a scrape and when one of them is killed and replaced (careers/metrics.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .apps import SECRET
from .servers import eventually, free_port, wait_healthy

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _counters(text: str) -> Samples:
    """Every sample that may only grow: counters, and histograms' buckets, counts and sums."""
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        if family.type not in ("counter", "histogram"):
            continue
        for sample in family.samples:
            if sample.name.endswith("_created"):
                continue
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _workers(master: int) -> list[int]:
    """The master's child processes: gunicorn's workers."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


@pytest.fixture
def two_workers(sandbox, sandbox_server, tmp_path) -> Iterator[tuple[subprocess.Popen, str]]:
    """`careers serve --workers 2`, read-only (no delivery), against the sandbox."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CAREERS_", "PROMETHEUS"))}
    env.update(
        CAREERS_PERSONIO_FEED_URL=f"{sandbox_server.url}/xml",
        CAREERS_SECRET_KEY=SECRET,
        CAREERS_DATA_DIR=str(tmp_path / "data"),
        CAREERS_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    # A file left by an earlier run would be summed in: the master must clear the directory.
    (tmp_path / "data" / "metrics").mkdir(parents=True)
    (tmp_path / "data" / "metrics" / "counter_999999.db").write_bytes(b"stale")
    command = [sys.executable, "-m", "careers.cli", "serve", "--host", "127.0.0.1"]
    with (tmp_path / "serve.err").open("wb") as err:
        proc = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "2"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            cwd=tmp_path,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, proc, 60)
        assert eventually(lambda: len(_workers(proc.pid)) == 2, 60)
        yield proc, base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.system
def test_counters_never_decrease_across_two_workers_and_a_killed_one(two_workers):
    proc, base = two_workers
    seen: Samples = {}
    decreases: list[str] = []

    def scrape(round_: int) -> None:
        # A new connection each time, so the scrapes spread over both workers.
        for path in ("/en/jobs", "/healthz", "/de/jobs?department=Engineering"):
            assert httpx.get(base + path, timeout=10).status_code == 200
        response = httpx.get(f"{base}/metrics", timeout=10)
        assert response.status_code == 200
        assert "server" not in response.headers  # not announced (issue 19, point 5)
        now = _counters(response.text)
        for key, before in seen.items():
            if now.get(key, 0.0) < before:
                decreases.append(f"round {round_}: {key} {before} -> {now.get(key, 0.0)}")
        seen.update(now)

    for round_ in range(20):
        scrape(round_)
    requests = {k: v for k, v in seen.items() if k[0] == "careers_http_requests_total"}
    assert sum(requests.values()) >= 60, requests  # every worker's requests are in the sum

    victim = _workers(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    assert eventually(lambda: victim not in _workers(proc.pid) and len(_workers(proc.pid)) == 2, 60)
    wait_healthy(base, proc, 60)
    for round_ in range(20, 40):
        scrape(round_)
    assert not decreases, decreases[:10]
    # The killed worker's requests still count: nothing was lost with it.
    after = {k: v for k, v in seen.items() if k[0] == "careers_http_requests_total"}
    assert sum(after.values()) >= 120


def test_single_process_apps_keep_their_own_registry(make_app):
    """Tests, `careers demo` and `careers worker` run one process: no directory needed."""
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    client = make_app().test_client()
    client.get("/healthz")
    text = client.get("/metrics").get_data(as_text=True)
    found = _counters(text)
    assert any(name == "careers_http_requests_total" for name, _ in found)
