"""Fetch and parse Personio's XML job feed (personio-api.md §1) into `Position` objects."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from lxml import etree

from .model import Description, Position, Salary
from .sanitize import sanitize_html

log = logging.getLogger(__name__)

# A real board of 300 positions is well under 2 MB (personio-api.md §1.1, "Paging"); 32 MB
# leaves room for very large boards while bounding what a hostile upstream can make us hold.
MAX_FEED_BYTES = 32 * 1024 * 1024
ROOT_TAG = "workzag-jobs"


class FeedError(Exception):
    """The feed could not be used; `reason` is a short tag for logs and metrics."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _parser() -> etree.XMLParser:
    """A parser that never reads a DTD, expands an entity or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
    )


def parse_feed(data: bytes) -> list[Position]:
    """Parse one language's feed; raise FeedError unless it really is a `<workzag-jobs>` board."""
    if len(data) > MAX_FEED_BYTES:
        raise FeedError("too_large", f"{len(data)} bytes")
    if not data.strip():
        raise FeedError("empty_body")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        # An HTML page (feed disabled, wrong host, §4.8) usually fails here too.
        head = data.lstrip()[:200].lower()
        reason = "not_xml" if head.startswith((b"<!doctype html", b"<html")) else "malformed"
        raise FeedError(reason, str(exc)[:200]) from None
    # Personio never sends a DTD; one in the feed can only be an entity attack (XXE, "billion
    # laughs"). The parser above would not expand it, but refusing the document is clearer.
    if root.getroottree().docinfo.doctype:
        raise FeedError("dtd", "document declares a DTD")
    if root.tag != ROOT_TAG:
        raise FeedError("wrong_root", f"root element <{str(root.tag)[:40]}>")

    positions: list[Position] = []
    seen: set[int] = set()
    # One <position> is a list of one (§1.5); zero is a valid empty board.
    for element in root.iterchildren("position"):
        position = _position(element)
        if position is None or position.id in seen:
            continue
        seen.add(position.id)
        positions.append(position)
    return positions


def _text(parent: etree._Element, tag: str) -> str:
    """Stripped text of a direct child, '' when missing: missing elements are normal (§1.5)."""
    child = parent.find(tag)
    if child is None or child.text is None:
        return ""
    return child.text.strip()


def _position(el: etree._Element) -> Position | None:
    """Build one Position; a position without a usable numeric id is skipped, not fatal."""
    raw_id = _text(el, "id")
    try:
        position_id = int(raw_id)
    except ValueError:
        log.warning("feed position skipped", extra={"reason": "bad_id"})
        return None
    if position_id <= 0:
        return None
    return Position(
        id=position_id,
        name=_text(el, "name"),
        subcompany=_text(el, "subcompany"),
        office=_text(el, "office"),
        # Undocumented but real: <additionalOffices><office>…</office></additionalOffices> (§1.3).
        additional_offices=tuple(
            o.text.strip()
            for o in el.iterfind("additionalOffices/office")
            if o.text and o.text.strip()
        ),
        department=_text(el, "department"),
        recruiting_category=_text(el, "recruitingCategory"),
        descriptions=_descriptions(el),
        employment_type=_text(el, "employmentType"),
        seniority=_text(el, "seniority"),
        schedule=_text(el, "schedule"),
        years_of_experience=_text(el, "yearsOfExperience"),
        # Free text with inconsistent spacing, e.g. "Compliance ,Immigration" (§1.3).
        keywords=tuple(k.strip() for k in _text(el, "keywords").split(",") if k.strip()),
        occupation=_text(el, "occupation"),
        occupation_category=_text(el, "occupationCategory"),
        created_at=parse_created_at(_text(el, "createdAt")),
        salary=_salary(el.find("salaryInformation")),
    )


def _descriptions(el: etree._Element) -> tuple[Description, ...]:
    """Sanitise each block once, here at fetch time, so rendering never has to."""
    blocks = []
    for block in el.iterfind("jobDescriptions/jobDescription"):
        html = sanitize_html(_text(block, "value"))
        name = _text(block, "name")
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
    salary = Salary(
        min=_amount(_text(el, "min")),
        max=_amount(_text(el, "max")),
        currency_symbol=_text(el, "currencySymbol"),
        currency_code=_text(el, "currencyCode").upper(),
        type=_text(el, "type"),
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
