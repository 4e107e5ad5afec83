"""The app as gunicorn serves it in the benchmarks (`bench.app:app`); the baselines it is
measured against are bare WSGI apps of their own (bench/baseline.py, bench/sink.py)."""

from __future__ import annotations

import os

from careers import create_app

app = create_app()
if "BENCH_UPLOAD_SLOTS" in os.environ:
    # "before" in bench/bench_slow_clients.py: a budget of this many slots (1,000: none), and
    # first come, first served, as before issue 18 (no slot taken over, no share per client).
    from careers.applications.slowbody import UploadGate

    app.extensions["careers"].upload_gate = UploadGate(
        int(os.environ["BENCH_UPLOAD_SLOTS"]), fair_rate=0, per_client=1_000_000
    )
