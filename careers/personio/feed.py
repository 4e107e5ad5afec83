"""Fetch and parse Personio's XML job feed (docs/personio.md §1) into `Position` objects."""

from __future__ import annotations

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
MAX_LOCATION = 300  # characters of a redirect's target kept (it names where the feed moved)


class FeedError(Exception):
    """The feed could not be used; `reason` is a short tag for logs and metrics. `status`
    and `location` keep what the answer said, for telling Personio's conditions apart
    (careers/personio/diagnosis.py)."""

    def __init__(
        self, reason: str, detail: str = "", *, status: int | None = None, location: str = ""
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.status = status
        self.location = location


class FragmentCache:
    """Sanitised description blocks of the last parse, so a refresh only cleans what changed.

    Keyed by the raw text. Most blocks take the sanitiser's fast path, whose result is the raw
    string itself, so such a block is held once, by the cache and the Position objects that
    use it alike; the cache never outgrows one feed.
    """

    def __init__(self) -> None:
        self._previous: dict[str, str] = {}
        self._current: dict[str, str] = {}

    def sanitised(self, raw: str) -> str:
        """The sanitised HTML of one raw block; cleaned only if the last feed did not have it."""
        html = self._current.get(raw)
        if html is None:
            html = self._previous.get(raw)
            if html is None:
                html = sanitize_html(raw)
            self._current[raw] = html
        return html

    def commit(self) -> None:
        """Keep exactly the blocks of the feed just parsed: the cache never outgrows a feed."""
        self._previous, self._current = self._current, {}


def parse_feed(data: bytes, cache: FragmentCache | None = None) -> list[Position]:
    """Parse one language's feed; raise FeedError unless it really is a `<workzag-jobs>` board."""
    if len(data) > MAX_FEED_BYTES:
        raise FeedError("too_large", f"{len(data)} bytes")
    if not data or data.isspace():  # the same test as `not data.strip()`, without the copy
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
        # Whitespace-only text between elements is dropped while parsing: every text the
        # feed is read for is stripped anyway, and the tree gets a third smaller.
        root = etree.fromstring(data, hardened_parser(remove_blank_text=True))
    except etree.XMLSyntaxError as exc:
        raise FeedError("malformed", str(exc)[:200]) from None
    if root.getroottree().docinfo.doctype:  # backstop; the prolog check above should catch it
        raise FeedError("dtd", "document declares a DTD")
    if root.tag != ROOT_TAG:
        raise FeedError("wrong_root", f"root element <{str(root.tag)[:40]}>")

    # Real boards repeat blocks ("Why us?"): the cache cleans each distinct text once, on this
    # thread. Not on a thread pool (as before issue 25): nh3 releases the GIL, but the threads
    # then hand it back and forth between blocks, which cost 30 % more CPU time in all and,
    # with the cores busy serving pages, several times the wall time (docs/benchmarks.md, P4).
    cache = FragmentCache() if cache is None else cache
    positions = _read_positions(root, cache)
    cache.commit()
    return positions


def _text(el: etree._Element | None) -> str:
    """Stripped text of an element, '' when missing: missing elements are normal (§1.5)."""
    if el is None:
        return ""
    text = el.text
    return text.strip() if text else ""


def _read_positions(root: etree._Element, cache: FragmentCache) -> list[Position]:
    """Read every usable <position> in one pass, its description blocks sanitised by `cache`.

    Built for speed (a 5,000-position board has 130,000 elements): one dict of the children
    per element instead of a search per field, the Position made as soon as it is read, and
    repeated strings (offices, departments, block names) shared rather than held once per
    position.
    """
    positions: list[Position] = []
    seen: set[int] = set()
    interned: dict[str, str] = {}
    share = interned.setdefault
    sanitised = cache.sanitised
    # One <position> is a list of one (§1.5); zero is a valid empty board.
    for el in root.iterchildren("position"):
        # First of each tag wins: in reverse order the first one is written last.
        fields = {child.tag: child for child in reversed(el)}
        get = fields.get
        try:
            position_id = int(_text(get("id")))
        except ValueError:
            log.warning("feed position skipped", extra={"reason": "bad_id"})
            continue
        if position_id <= 0 or position_id in seen:  # a usable id, and the first one wins
            continue
        seen.add(position_id)
        offices = get("additionalOffices")
        descriptions: list[Description] = []
        container = get("jobDescriptions")
        if container is not None:
            for block in container.iterchildren("jobDescription"):
                name = raw = None  # the first <name> and <value> of the block
                for part in block:
                    tag = part.tag
                    if tag == "value":
                        if raw is None:
                            raw = (part.text or "").strip()
                    elif tag == "name" and name is None:
                        text = (part.text or "").strip()
                        name = share(text, text)
                html = sanitised(raw) if raw else ""
                if html or name:  # a block that sanitises to nothing and has no name is noise
                    descriptions.append(Description(name or "", html))
        keywords = _text(get("keywords"))
        salary = get("salaryInformation")
        positions.append(
            Position(  # by position, in the order of Position's fields (a third faster)
                position_id,
                _text(get("name")),
                share(text := _text(get("subcompany")), text),
                share(text := _text(get("office")), text),
                # Undocumented but real: <additionalOffices><office>…</office></…> (§1.3).
                ()
                if offices is None
                else tuple(
                    share(text, text) for text in map(_text, offices.iterchildren("office")) if text
                ),
                share(text := _text(get("department")), text),
                share(text := _text(get("recruitingCategory")), text),
                tuple(descriptions),
                share(text := _text(get("employmentType")), text),
                share(text := _text(get("seniority")), text),
                share(text := _text(get("schedule")), text),
                share(text := _text(get("yearsOfExperience")), text),
                # Free text with inconsistent spacing, e.g. "Compliance ,Immigration" (§1.3).
                tuple([share(k, k) for k in map(str.strip, keywords.split(",")) if k])
                if keywords
                else (),
                share(text := _text(get("occupation")), text),
                share(text := _text(get("occupationCategory")), text),
                parse_created_at(_text(get("createdAt"))),
                None if salary is None else _salary(salary),
            )
        )
    return positions


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


def _salary(el: etree._Element) -> Salary | None:
    """`<salaryInformation>` is undocumented (§1.3); only keep it when it names an amount."""
    parts = {child.tag: child for child in reversed(el)}
    low, high = _amount(_text(parts.get("min"))), _amount(_text(parts.get("max")))
    if low is None and high is None:
        return None
    return Salary(
        min=low,
        max=high,
        currency_symbol=_text(parts.get("currencySymbol")),
        currency_code=_text(parts.get("currencyCode")).upper(),
        type=_text(parts.get("type")),
    )


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
                status = response.status_code
                if response.is_redirect:
                    # Not followed, but where it points says whether the feed moved (§1.1).
                    location = _target(response)
                    raise FeedError(
                        "redirect", f"HTTP {status} to {location}", status=status, location=location
                    )
                if status != 200:
                    raise FeedError("http_status", f"HTTP {status}", status=status)
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


def _target(response: httpx.Response) -> str:
    """Where a redirect points, absolute; bounded, as it comes from the other side and is
    shown to operators; "" when it is no URL at all."""
    try:
        return str(response.url.join(response.headers["Location"]))[:MAX_LOCATION]
    except (httpx.InvalidURL, ValueError):
        return ""
