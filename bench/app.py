"""The app as gunicorn serves it, plus two baselines: `/bench-static` (a file with the list
page's bytes) and `/bench-discard` (reads a POST body and drops it)."""

from __future__ import annotations

import os

from flask import request, send_file

from careers import create_app

app = create_app()
if "BENCH_UPLOAD_SLOTS" in os.environ:  # "before": no separate budget for uploads
    from careers.applications.slowbody import UploadGate

    app.extensions["careers"].upload_gate = UploadGate(int(os.environ["BENCH_UPLOAD_SLOTS"]))


@app.get("/bench-static")
def bench_static():
    """Baseline: the same bytes, the same server and middleware, no rendering."""
    return send_file(os.environ["BENCH_STATIC_COPY"], mimetype="text/html")


@app.post("/bench-discard")
def bench_discard():
    """Baseline: the same body read from the same server in the upload receiver's 64 KiB
    chunks, then dropped: no parsing, no disk, no checks."""
    while request.stream.read(64 * 1024):
        pass
    return "", 200
