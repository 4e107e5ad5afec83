"""A WSGI app for gunicorn in tests/test_slow_clients.py: the product, with the slow-body
limits tightened from TEST_* variables so the tests need seconds, not minutes."""

from __future__ import annotations

import os
import resource

from careers import create_app
from careers.applications.rules import FAIR_GRACE, FAIR_RATE, Limits
from careers.applications.slowbody import UploadGate

app = create_app()
_services = app.extensions["careers"]
_services.limits = Limits(
    stall_seconds=float(os.environ.get("TEST_STALL_SECONDS", "30")),
    min_rate=float(os.environ.get("TEST_MIN_RATE", "4096")),
    rate_grace=float(os.environ.get("TEST_RATE_GRACE", "20")),
)
if "TEST_UPLOAD_SLOTS" in os.environ:
    _services.upload_gate = UploadGate(
        int(os.environ["TEST_UPLOAD_SLOTS"]),
        fair_rate=float(os.environ.get("TEST_FAIR_RATE", str(FAIR_RATE))),
        grace=float(os.environ.get("TEST_FAIR_GRACE", str(FAIR_GRACE))),
    )
    # The gauge hears of every change of the gate (careers/services.py wires its own gate).
    _services.upload_gate.on_change = _services.metrics.uploads_reading.set

# Descriptors the process holds from the start, all but TEST_FREE_FDS of its open-file limit,
# as an app with many files open would: the worker then runs out of them though its
# connections fit its budget (tests/test_front.py).
if "TEST_FREE_FDS" in os.environ:
    _soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    _held = []
    while len(os.listdir("/proc/self/fd")) < _soft - int(os.environ["TEST_FREE_FDS"]):
        _held.append(os.open(os.devnull, os.O_RDONLY))
