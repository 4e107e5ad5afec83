"""The limit for accepting uploads: a bare WSGI app that reads a body and drops it, and a
launcher that serves it (or the careers app) under `careers serve`'s own gunicorn settings.

`python -m bench.sink [bench.sink:app] [PORT]` serves the sink; bench_applications.py starts
both servers with `start()`, so the sink and the app run under the same gunicorn options
(`careers.cli.serve.gunicorn_options`: 2 workers x SERVE_THREADS gthread threads).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import httpx
from gunicorn.app.base import BaseApplication

from bench import measure

ROOT = Path(__file__).resolve().parents[1]

CHUNK = 64 * 1024  # what the upload receiver reads at a time (careers/applications/rules.py)
WORKERS = 2  # `careers serve`'s default


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Read the whole body in 64 KiB chunks, answer 200: no framework, no parsing, no disk."""
    stream = environ["wsgi.input"]
    while stream.read(CHUNK):
        pass
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
    return [b""]


class _Serve(BaseApplication):  # gunicorn ships no type hints: BaseApplication is Any
    """Any WSGI app under the options `careers serve` gives gunicorn."""

    def __init__(self, target: str, options: dict[str, Any]) -> None:
        self.target, self.options = target, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        module, _, name = self.target.partition(":")
        return getattr(importlib.import_module(module), name)


def serve(target: str, port: int, workers: int = WORKERS) -> None:
    """Run `target` ("module:attribute") on 127.0.0.1:`port` until terminated."""
    from careers.cli.serve import gunicorn_options

    _Serve(target, gunicorn_options("127.0.0.1", port, workers)).run()


def start(
    target: str, env: dict[str, str], port: int, ready_path: str, workers: int = WORKERS
) -> tuple[subprocess.Popen[bytes], str]:
    """Serve `target` in a child process (access log dropped); returns it and its base URL
    once `ready_path` answers 200."""
    command = [sys.executable, "-m", "bench.sink", target, str(port), str(workers)]
    proc = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        preexec_fn=measure.pin_server,  # on the server's cores when bench/run.py pins
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}{ready_path}", timeout=2).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{target} did not start")


if __name__ == "__main__":
    args = sys.argv[1:]
    serve(
        args[0] if args else "bench.sink:app",
        int(args[1]) if len(args) > 1 else 8001,
        int(args[2]) if len(args) > 2 else WORKERS,
    )
