"""Log lines an operator can grep: a reason tag, never personal data or secrets.

One event is one line. Whatever text reaches a line — a message, an `extra=` value, a path
in gunicorn's access log — has its control characters escaped (`\\x0d`, `\\x1b`, `\\u2028`…),
so a request cannot end a line and forge the next one, colour a terminal or hide text
behind bidi overrides. A traceback follows its record on lines indented by two spaces: a
line that starts at column 0 is always a new record.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from typing import Any

from gunicorn import glogging

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}

# C0, DEL, C1, the line and paragraph separators, bidi controls (ALM, LRM, RLM, LRE…RLO,
# LRI…PDI), lone surrogates, and the backslash itself so that an escape is never ambiguous.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\\\\]"
)
# Receipt URLs (/<lang>/applications/<receipt>, also under /embed/) are bearer secrets.
_RECEIPT = re.compile(r"(/applications/)([^/?#\s]{6})[^/?#\s]+")
RECEIPT_SHOWN = 6


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\\":
        return "\\\\"
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(text: str) -> str:
    """`text` with every control character written as `\\xNN`/`\\uNNNN`: one line, inert."""
    return _UNSAFE.sub(_escape_char, text)


def redact_receipts(text: str) -> str:
    """Receipt ids cut to their first characters and `…`: enough to match two lines."""
    return _RECEIPT.sub(r"\1\2…", text)


def clean(text: str) -> str:
    """What any text from outside goes through before it is logged."""
    return escape(redact_receipts(text))


def _value(value: Any) -> str:
    """An `extra=` value; quoted when a space or `=` could make it look like two fields."""
    text = clean(str(value))
    if text == "" or any(c in text for c in ' "='):
        return '"' + text.replace('"', '\\"') + '"'
    return text


def _wsgi_text(value: str) -> str:
    """A WSGI string (bytes as latin-1, PEP 3333) as the UTF-8 text the client meant."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


class KeyValueFormatter(logging.Formatter):
    """`time level logger message key=value…` with the `extra=` fields we log on purpose."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = clean(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        if extras:
            line += " " + " ".join(f"{clean(k)}={_value(v)}" for k, v in sorted(extras.items()))
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        blocks = [record.exc_text, record.stack_info and self.formatStack(record.stack_info)]
        for block in blocks:
            if block:
                line += "".join(f"\n  {clean(part)}" for part in block.split("\n"))
        return line


class GunicornLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn has no type hints
    """gunicorn's logger (`logger_class` of `careers serve`) with every access-log value
    escaped and receipt ids cut, and its error log formatted like ours."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.error_log.handlers:
            if getattr(handler, "_gunicorn", False):
                handler.setFormatter(KeyValueFormatter(self.error_fmt, self.datefmt))

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        # Only what the line shows: gunicorn makes an atom of every request and response
        # header too, and escaping them all cost a third of a warm page's CPU.
        for key in self._shown(self.cfg.access_log_format):
            value = atoms.get(key)
            if isinstance(value, str):
                atoms[key] = clean(_wsgi_text(value))
        return atoms

    @staticmethod
    @functools.lru_cache(maxsize=4)
    def _shown(log_format: str) -> tuple[str, ...]:
        """The atoms a format names; header atoms (`{name}i`) as gunicorn looks them up."""
        keys = re.findall(r"%\(([^)]+)\)s", log_format)
        return tuple(k.lower() if k.startswith("{") else k for k in keys)


def configure_logging(level: int = logging.INFO) -> None:
    """One handler on stderr for the whole process."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request at INFO; our own lines already say what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)
