"""The one place that decides which upstream HTML may reach a candidate's browser."""

from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor

import nh3

# Personio descriptions are written in a rich-text editor: paragraphs, line breaks, lists,
# emphasis and links (docs/personio.md §1.3, §1.5). Anything else is dropped, keeping its text.
ALLOWED_TAGS = frozenset(
    {"p", "br", "ul", "ol", "li", "strong", "b", "em", "i", "u", "a", "h3", "h4", "blockquote"}
)

_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    # Script and style bodies are removed together with the tag, not shown as text.
    clean_content_tags={"script", "style", "template", "noscript", "iframe", "object"},
    attributes={"a": {"href"}},
    url_schemes={"https", "mailto"},
    # Relative links would point into *our* site, where they mean nothing.
    url_relative="deny",
    link_rel="noopener noreferrer",
    strip_comments=True,
)

# nh3 releases the GIL while it cleans, so a large batch is split over a few threads. Below
# about 256 KB (some 5 ms of cleaning) starting threads would cost more than it saves.
PARALLEL_MIN_CHARS = 256 * 1024
_CHUNK = 128  # fragments per task: few enough tasks to keep the pool's overhead negligible


# Tags recruiters paste into Personio job texts for LinkedIn's job wrapping (`#LI-DNI`,
# `#LI-Hybrid`, `#LI-Remote`, recruiter initials such as `#LI-XY1`; docs/personio.md §1.5):
# noise on a career site. Only as a word of the text, never inside a link (`…/#LI-x`).
_LINKEDIN_TAG = re.compile(r"(?<![^\s>(])#LI-[A-Za-z0-9][A-Za-z0-9_]*(?![\w-])", re.IGNORECASE)
# What such a tag leaves behind: a space before a break or a closing tag, breaks ending a
# paragraph, and elements with nothing in them any more.
_TRAILING_SPACE = re.compile(r"[ \t\xa0]+(?=<br>|</|$)")
_TRAILING_BREAKS = re.compile(r"(?:\s*<br>)+\s*(?=</(?:p|li|h3|h4|blockquote)>|$)")
_EMPTY_ELEMENT = re.compile(r"<(p|li|strong|b|em|i|u|h3|h4|blockquote|ul|ol)>\s*</\1>")


def sanitize_html(fragment: str) -> str:
    """Reduce an upstream HTML fragment to the allowlist; the result is safe to render as is."""
    return _without_linkedin_tags(_CLEANER.clean(fragment).strip())


def _without_linkedin_tags(html: str) -> str:
    """The cleaned HTML without LinkedIn's hashtags; untouched when it has none."""
    if "#" not in html:
        return html
    stripped = _LINKEDIN_TAG.sub("", html)
    if stripped == html:
        return html
    stripped = _TRAILING_BREAKS.sub("", _TRAILING_SPACE.sub("", stripped))
    while (emptied := _EMPTY_ELEMENT.sub("", stripped)) != stripped:
        stripped = emptied
    return stripped.strip()


def sanitize_many(fragments: list[str], workers: int | None = None) -> list[str]:
    """`sanitize_html` of each fragment, in order, on several cores when the batch is large."""
    if workers is None:
        workers = _cpus()
    if workers < 2 or sum(map(len, fragments)) < PARALLEL_MIN_CHARS:
        return _clean_chunk(fragments)
    chunks = [fragments[i : i + _CHUNK] for i in range(0, len(fragments), _CHUNK)]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sanitize") as pool:
        return [html for chunk in pool.map(_clean_chunk, chunks) for html in chunk]


def _clean_chunk(fragments: list[str]) -> list[str]:
    """One task: a plain loop, so the GIL is only held between two fragments."""
    clean = _CLEANER.clean
    return [_without_linkedin_tags(clean(fragment).strip()) for fragment in fragments]


def _cpus() -> int:
    """Cores this process may run on (a container's CPU set, not the host's), at most 4."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return min(available, 4)
