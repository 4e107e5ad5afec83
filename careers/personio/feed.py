"""Fetch and parse Personio's XML job feed (docs/personio.md §1) into `Position` objects."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from lxml import etree

from ..safexml import hardened_parser
from .model import Description, Position, Salary
from .sanitize import sanitize_html

log = logging.getLogger(__name__)

# A real board of 300 positions is well under 2 MB (docs/personio.md §1.1, "Paging"); 32 MB
# leaves room for very large boards while bounding what a hostile upstream can make us hold.
MAX_FEED_BYTES = 32 * 1024 * 1024
ROOT_TAG = "workzag-jobs"


class FeedError(Exception):
    """The feed could not be used; `reason` is a short tag for logs and metrics."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class FragmentCache:
    """Sanitised description blocks of the last parse, so a refresh only cleans what changed.

    Keyed by a 128-bit digest of the raw text (not the text itself) to keep memory flat; the
    cleaned strings are shared with the Position objects that use them.
    """

    def __init__(self) -> None:
        self._previous: dict[bytes, str] = {}
        self._current: dict[bytes, str] = {}

    def sanitise(self, raw: str) -> str:
        key = hashlib.blake2b(raw.encode(), digest_size=16).digest()
        html = self._current.get(key)
        if html is None:
            html = self._previous.get(key)
            if html is None:
                html = sanitize_html(raw)
            self._current[key] = html
        return html

    def commit(self) -> None:
        """Keep exactly the blocks of the feed just parsed: the cache never outgrows a feed."""
        self._previous, self._current = self._current, {}


def parse_feed(data: bytes, cache: FragmentCache | None = None) -> list[Position]:
    """Parse one language's feed; raise FeedError unless it really is a `<workzag-jobs>` board."""
    if len(data) > MAX_FEED_BYTES:
        raise FeedError("too_large", f"{len(data)} bytes")
    if not data.strip():
        raise FeedError("empty_body")
    # Personio never sends a DTD. An HTML page means a disabled feed or a wrong host (§4.8);
    # any other DTD can only be an entity attack (XXE, "billion laughs"): refuse it unparsed.
    root_at = data.find(b"<" + ROOT_TAG.encode())
    head = (data[:root_at] if root_at >= 0 else data[:4096]).lower()
    if b"<!doctype html" in head or b"<html" in head:
        raise FeedError("not_xml", "an HTML page, not the XML feed")
    if b"<!doctype" in head or b"<!entity" in head:
        raise FeedError("dtd", "document declares a DTD")
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        raise FeedError("malformed", str(exc)[:200]) from None
    if root.getroottree().docinfo.doctype:  # backstop; the prolog check above should catch it
        raise FeedError("dtd", "document declares a DTD")
    if root.tag != ROOT_TAG:
        raise FeedError("wrong_root", f"root element <{str(root.tag)[:40]}>")

    positions: list[Position] = []
    seen: set[int] = set()
    # Real boards repeat blocks ("Why us?") across jobs: sanitise each distinct text once.
    cache = cache or FragmentCache()
    # One <position> is a list of one (§1.5); zero is a valid empty board.
    for element in root.iterchildren("position"):
        position = _position(element, cache)
        if position is None or position.id in seen:
            continue
        seen.add(position.id)
        positions.append(position)
    cache.commit()
    return positions


def _children(el: etree._Element) -> dict[str, etree._Element]:
    """Direct children by tag, first one wins; one pass instead of a search per field."""
    found: dict[str, etree._Element] = {}
    for child in el:
        found.setdefault(child.tag, child)
    return found


def _text(children: dict[str, etree._Element], tag: str) -> str:
    """Stripped text of a child, '' when missing: missing elements are normal (§1.5)."""
    child = children.get(tag)
    if child is None or child.text is None:
        return ""
    return child.text.strip()


def _position(el: etree._Element, cache: FragmentCache) -> Position | None:
    """Build one Position; a position without a usable numeric id is skipped, not fatal."""
    fields = _children(el)
    try:
        position_id = int(_text(fields, "id"))
    except ValueError:
        log.warning("feed position skipped", extra={"reason": "bad_id"})
        return None
    if position_id <= 0:
        return None
    offices = fields.get("additionalOffices")
    return Position(
        id=position_id,
        name=_text(fields, "name"),
        subcompany=_text(fields, "subcompany"),
        office=_text(fields, "office"),
        # Undocumented but real: <additionalOffices><office>…</office></additionalOffices> (§1.3).
        additional_offices=()
        if offices is None
        else tuple(
            o.text.strip() for o in offices if o.tag == "office" and o.text and o.text.strip()
        ),
        department=_text(fields, "department"),
        recruiting_category=_text(fields, "recruitingCategory"),
        descriptions=_descriptions(fields.get("jobDescriptions"), cache),
        employment_type=_text(fields, "employmentType"),
        seniority=_text(fields, "seniority"),
        schedule=_text(fields, "schedule"),
        years_of_experience=_text(fields, "yearsOfExperience"),
        # Free text with inconsistent spacing, e.g. "Compliance ,Immigration" (§1.3).
        keywords=tuple(k.strip() for k in _text(fields, "keywords").split(",") if k.strip()),
        occupation=_text(fields, "occupation"),
        occupation_category=_text(fields, "occupationCategory"),
        created_at=parse_created_at(_text(fields, "createdAt")),
        salary=_salary(fields.get("salaryInformation")),
    )


def _descriptions(
    container: etree._Element | None, cache: FragmentCache
) -> tuple[Description, ...]:
    """Sanitise each block once, here at fetch time, so rendering never has to."""
    if container is None:
        return ()
    blocks = []
    for block in container:
        if block.tag != "jobDescription":
            continue
        parts = _children(block)
        html = cache.sanitise(_text(parts, "value"))
        name = _text(parts, "name")
        if html or name:
            blocks.append(Description(name=name, html=html))
    return tuple(blocks)


def parse_created_at(value: str) -> datetime | None:
    """Both `+0200` and `+00:00` offsets occur (§1.3); a bad date is dropped, not fatal."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _amount(value: str) -> float | None:
    """Salary amounts come as "65000.00" and may be empty (§1.3)."""
    try:
        amount = float(value.replace(",", ""))
    except ValueError:
        return None
    return amount if amount > 0 else None


def _salary(el: etree._Element | None) -> Salary | None:
    """`<salaryInformation>` is undocumented (§1.3); only keep it when it names an amount."""
    if el is None:
        return None
    parts = _children(el)
    salary = Salary(
        min=_amount(_text(parts, "min")),
        max=_amount(_text(parts, "max")),
        currency_symbol=_text(parts, "currencySymbol"),
        currency_code=_text(parts, "currencyCode").upper(),
        type=_text(parts, "type"),
    )
    if salary.min is None and salary.max is None:
        return None
    return salary


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One answer from the feed host: a new body, or "not modified" for our validators."""

    body: bytes | None
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.body is None


class FeedClient:
    """One pooled HTTP client per process for the feed host."""

    def __init__(
        self,
        feed_url: str,
        *,
        timeout: httpx.Timeout | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.feed_url = feed_url
        self._client = httpx.Client(
            timeout=timeout or httpx.Timeout(15.0, connect=5.0),
            # A redirect means a wrong host or a disabled feed (§1.1, §4.8): an error, not a board.
            follow_redirects=False,
            transport=transport,
            headers={"Accept": "application/xml, text/xml;q=0.9", "User-Agent": "careers-feed/1"},
        )

    def fetch(self, language: str, *, etag: str = "", last_modified: str = "") -> FetchResult:
        """GET `<feed>?language=xx`, conditionally when we hold validators from a previous copy."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self._client.stream(
                "GET", self.feed_url, params={"language": language}, headers=headers
            ) as response:
                if response.status_code == 304:
                    return FetchResult(body=None, etag=etag, last_modified=last_modified)
                if response.is_redirect:
                    raise FeedError("redirect", f"HTTP {response.status_code}")
                if response.status_code != 200:
                    raise FeedError("http_status", f"HTTP {response.status_code}")
                body = self._read_capped(response)
                return FetchResult(
                    body=body,
                    etag=response.headers.get("ETag", ""),
                    last_modified=response.headers.get("Last-Modified", ""),
                )
        except httpx.TimeoutException as exc:
            raise FeedError("timeout", type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise FeedError("transport", type(exc).__name__) from None

    @staticmethod
    def _read_capped(response: httpx.Response) -> bytes:
        """Read the body but stop as soon as it outgrows MAX_FEED_BYTES."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_FEED_BYTES:
                raise FeedError("too_large", f"more than {MAX_FEED_BYTES} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Release pooled connections."""
        self._client.close()
