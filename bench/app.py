"""The app as gunicorn serves it, plus `/bench-static`: a file with the list page's bytes."""

from __future__ import annotations

import os

from flask import send_file

from careers import create_app

app = create_app()


@app.get("/bench-static")
def bench_static():
    """Baseline: the same bytes, the same server and middleware, no rendering."""
    return send_file(os.environ["BENCH_STATIC_COPY"], mimetype="text/html")
