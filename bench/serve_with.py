"""`careers serve --host 127.0.0.1 --port PORT --no-worker` with another gunicorn worker class,
for bench/bench_connections.py: `python -m bench.serve_with gthread|front PORT`."""

from __future__ import annotations

import sys

from careers.cli import serve
from careers.cli.common import settings_or_exit
from careers.logs import configure_logging


def main() -> None:
    worker, port = sys.argv[1], int(sys.argv[2])
    settings = settings_or_exit()
    configure_logging()
    options = serve.gunicorn_options("127.0.0.1", port, 2, settings.data_dir)
    if worker == "gthread":
        options["worker_class"] = "gthread"  # gunicorn's own, as `careers serve` ran before
    elif worker != "front":
        sys.exit(f"unknown worker {worker!r}: gthread or front")
    serve._Gunicorn(settings, options, deliver=False).run()


if __name__ == "__main__":
    main()
