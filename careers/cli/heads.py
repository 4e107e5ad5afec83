"""What the front (careers/cli/front.py) needs to know of a request head: how much body to
wait for before a thread takes the request. Not a parser: anything odd is handed on at once,
and gunicorn's parser, which is strict, refuses it."""

from __future__ import annotations

import string
from dataclasses import dataclass

_HEX = frozenset(string.hexdigits.encode())


@dataclass(frozen=True)
class Plan:
    """Where the head ends, and how many bytes make the whole request, in buffer offsets."""

    head_end: int
    need: int  # head_end when the thread reads the body (large, unknown or malformed)
    chunked: bool  # a small chunked body: wait for its last chunk (or SMALL_BODY bytes)
    expects_continue: bool  # the client sends the body only after "100 Continue"


def plan_body(head: bytes, head_end: int, small: int) -> Plan:
    """The plan for one complete head (request line and fields, ending in an empty line)."""
    lines = head.split(b"\r\n")
    version = lines[0].rsplit(b" ", 1)[-1]
    lengths: list[bytes] = []
    codings: list[bytes] = []
    expect = b""
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.lower()
        if name == b"content-length":
            lengths.append(value.strip())
        elif name == b"transfer-encoding":
            codings += [c.strip().lower() for c in value.split(b",")]
        elif name == b"expect":
            expect = value.strip().lower()
    need, chunked = head_end, False
    if codings and not lengths:
        chunked = codings[-1] == b"chunked"
    elif lengths and not codings and len(lengths) == 1 and lengths[0].isdigit():
        # int() refuses more than 4,300 digits (a ValueError that would end the worker's
        # loop): a length with more digits than `small` has is large, whatever its value.
        digits = lengths[0].lstrip(b"0") or b"0"
        if len(digits) <= len(str(small)) and int(digits) <= small:
            need = head_end + int(digits)
    has_body = chunked or need > head_end
    continues = has_body and version == b"HTTP/1.1" and expect == b"100-continue"
    return Plan(head_end, need, chunked, continues)


def chunked_end(buf: bytearray, pos: int) -> tuple[int | None, int]:
    """Where a chunked body starting at `pos` ends (None: not yet), and where to resume.

    The resume offset moves past whole chunks only, so a body trickled in is scanned once.
    A malformed size line ends the wait (its offset is returned): the parser will refuse it.
    """
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None, pos
        size_text = bytes(buf[pos:line_end]).split(b";", 1)[0].strip(b" \t")
        if not size_text or not _HEX.issuperset(size_text):
            return pos, pos
        size = int(size_text, 16)
        if size == 0:
            trailer = line_end + 2
            while True:  # trailer fields, if any, up to an empty line
                end = buf.find(b"\r\n", trailer)
                if end < 0:
                    return None, pos
                if end == trailer:
                    return end + 2, pos
                trailer = end + 2
        following = line_end + 2 + size + 2
        if following > len(buf):
            return None, pos
        pos = following
