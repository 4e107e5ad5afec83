"""The limit a page is measured against: a bare WSGI app that answers every request with
one recorded response (status, headers, body) from memory, under exactly the gunicorn
options of `careers serve` (careers/cli/serve.py `gunicorn_options`).

`python -m bench.baseline careers --port N` serves careers itself (settings from CAREERS_*,
no delivery threads); `python -m bench.baseline bare --port N --response FILE` serves the
recorded response. Both write their access log to stdout, as `serve` does.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from gunicorn.app.base import BaseApplication

from bench import measure
from careers.cli.serve import gunicorn_options

ROOT = Path(__file__).resolve().parents[1]

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

# Hop-by-hop or per-request headers the server adds itself; never part of a recording.
_SERVER_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}


def record(response: httpx.Response, path: Path) -> None:
    """Keep a response's status, headers and body for `bare` to answer with."""
    headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _SERVER_HEADERS]
    status = f"{response.status_code} {response.reason_phrase}"
    path.write_text(json.dumps({"status": status, "headers": headers, "body": response.text}))


def bare_app(status: str, headers: list[tuple[str, str]], body: bytes) -> WSGIApplication:
    """The least a WSGI app can do: the same bytes for every request, nothing looked at."""
    chunks = [body]

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response(status, headers)
        return chunks

    return app


class _Served(BaseApplication):  # gunicorn ships no type hints: BaseApplication is Any
    """gunicorn with `serve`'s options around whatever app `load_app` builds in the worker."""

    def __init__(self, options: dict[str, Any], load_app: Callable[[], WSGIApplication]) -> None:
        self.options = options
        self.load_app = load_app
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> WSGIApplication:
        return self.load_app()


def _careers() -> WSGIApplication:
    """careers as `serve` builds it; BENCH_NO_FASTPATH=1 lets every request through to
    Flask (to measure what the fast path gains); BENCH_FUNNEL=off builds it without the
    funnel's view counting (bench/bench_funnel.py)."""
    from careers import create_app
    from careers.config import load_settings
    from careers.services import build_services
    from careers.web.fastpath import FastPath

    if os.environ.get("BENCH_NO_FASTPATH"):
        FastPath.__call__ = lambda self, environ, start_response: self.app(  # type: ignore[method-assign]
            environ, start_response
        )
    services = build_services(load_settings())
    if os.environ.get("BENCH_FUNNEL") == "off":
        services.tally = None
    return create_app(services=services)


def _bare(path: Path) -> Callable[[], WSGIApplication]:
    recorded = json.loads(path.read_text())
    headers = [(k, v) for k, v in recorded["headers"]]
    return lambda: bare_app(recorded["status"], headers, recorded["body"].encode())


def start(kind: str, port: int, env: dict[str, str], *extra: str) -> subprocess.Popen:
    """`python -m bench.baseline KIND` in the background; returns once /healthz or / answers."""
    command = [sys.executable, "-m", "bench.baseline", kind, "--port", str(port), *extra]
    proc = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,  # the access log: written, as by `serve`, then dropped
        preexec_fn=measure.pin_server,  # on the server's cores when bench/run.py pins
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"gunicorn ({kind}) did not start")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("kind", choices=["careers", "bare"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2)  # `serve`'s default
    parser.add_argument("--response", type=Path, help="recorded response (bare)")
    args = parser.parse_args()
    options = gunicorn_options("127.0.0.1", args.port, args.workers)
    load = _careers if args.kind == "careers" else _bare(args.response)
    _Served(options, load).run()


if __name__ == "__main__":
    main()
