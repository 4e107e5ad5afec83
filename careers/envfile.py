"""systemd's EnvironmentFile format, read for `careers --env-file FILE <command>`.

So that an operator's `careers outbox list` sees what the service sees, values come out as
systemd hands them over (systemd.exec(5), "EnvironmentFile="): `KEY=VALUE` lines; lines
starting with `#` or `;` are comments; whitespace around an unquoted value is dropped but
inside it kept, and so is a comment after it (`A=b # c` is "b # c"); a backslash keeps the
next character and one at the end of a line continues the value on the next; '…' keeps
everything up to the next quote, line breaks included; "…" too, except that a backslash
keeps a following `"`, `\\`, `` ` `` or `$` (and drops a line break) and stays before
anything else; quoted and unquoted parts run together (`A="b" c` is "bc").

Where systemd skips a line silently (no `=`, a name that cannot be a variable, `export A=b`)
or takes an unclosed quote to the end of the file, this reader refuses the file with the
line's number: such a line is a mistake, and the service would run without the setting.
"""

from __future__ import annotations

import re
from pathlib import Path

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
WHITESPACE = " \t\r"  # what systemd trims around keys and unquoted values (no newline)
COMMENTS = "#;"
DOUBLE_QUOTE_ESCAPES = '"\\`$'  # POSIX shell's, inside double quotes


class EnvFileError(Exception):
    """The file cannot be read, or a line is malformed: one line naming file and line."""


def read_env_file(path: Path) -> dict[str, str]:
    """The file's variables in order; a later assignment of a name replaces an earlier."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EnvFileError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EnvFileError(f"{path}, line {line}: not UTF-8 text") from None
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise EnvFileError(f"{path}, line {line}: a NUL byte; is this a text file?")
    try:
        return parse_env(text)
    except ValueError as exc:
        raise EnvFileError(f"{path}, {exc}") from None


def parse_env(text: str) -> dict[str, str]:
    """Parse the text of an environment file; ValueError("line N: …") for a malformed line."""
    found: dict[str, str] = {}
    pos, line = 0, 1
    while pos < len(text):
        start = line
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        stripped = text[pos:end].lstrip(WHITESPACE)
        if not stripped or stripped[0] in COMMENTS:
            pos, line = end + 1, line + 1  # a comment ends at its line, backslash or not
            continue
        key, sep, _ = stripped.partition("=")
        key = key.rstrip(WHITESPACE)
        if not sep:
            # Not echoed: a line without `=` may be a secret pasted on its own.
            raise ValueError(f"line {start}: not NAME=VALUE (there is no '=')")
        if not NAME.fullmatch(key):
            hint = " (no `export`: this is not a shell script)" if key.startswith("export ") else ""
            raise ValueError(f"line {start}: {_shorten(key)!r} is not a variable name{hint}")
        pos = text.index("=", pos) + 1
        value, pos, line = _value(text, pos, line, start)
        found[key] = value
    return found


def _value(text: str, pos: int, line: int, start: int) -> tuple[str, int, int]:
    """The value from `pos` to the end of its (possibly continued) line: (value, position
    after its line break, number of the next line)."""
    out: list[str] = []
    keep = 0  # len(out) up to the last character that trailing-whitespace trimming keeps
    unquoted = False  # inside an unquoted part, where quotes are plain characters
    while pos < len(text):
        c = text[pos]
        pos += 1
        if c == "\n":
            return "".join(out[:keep]), pos, line + 1
        if c == "\\":
            if pos < len(text):
                if text[pos] == "\n":
                    line += 1  # a continuation: the line break is dropped
                else:
                    out.append(text[pos])
                pos += 1
            unquoted, keep = True, len(out)
        elif unquoted:
            out.append(c)
            if c not in WHITESPACE:
                keep = len(out)
        elif c in "'\"":
            quoted, pos, line = _quoted(text, pos, line, c, start)
            out.append(quoted)
            keep = len(out)  # whitespace after the closing quote is skipped, as before
        elif c not in WHITESPACE:
            out.append(c)
            unquoted, keep = True, len(out)
    return "".join(out[:keep]), pos, line


def _quoted(text: str, pos: int, line: int, quote: str, start: int) -> tuple[str, int, int]:
    """A quoted part, from after its opening quote: (text, position after the closing
    quote, current line number)."""
    out: list[str] = []
    while pos < len(text):
        c = text[pos]
        pos += 1
        if c == quote:
            return "".join(out), pos, line
        if c == "\n":
            line += 1
            out.append(c)
        elif c == "\\" and quote == '"' and pos < len(text):
            following = text[pos]
            pos += 1
            if following == "\n":
                line += 1
            elif following in DOUBLE_QUOTE_ESCAPES:
                out.append(following)
            else:
                out.append(c + following)
        else:
            out.append(c)
    raise ValueError(f"line {start}: the {quote} quote is never closed")


def _shorten(text: str) -> str:
    """A name as quoted in an error, short enough for one line."""
    return text if len(text) <= 40 else text[:37] + "..."
