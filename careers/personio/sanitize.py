"""The one place that decides which upstream HTML may reach a candidate's browser."""

from __future__ import annotations

import re

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


def sanitize_many(fragments: list[str]) -> list[str]:
    """`sanitize_html` of each fragment, in order, on this thread.

    Deliberately not on a thread pool (as before issue 25): nh3 releases the GIL, but the
    threads then hand it back and forth between fragments, which cost 30 % more CPU time
    in all and, with the cores busy serving pages, several times the wall time of one
    thread (docs/benchmarks.md, P4). Refreshes run off the request path; no one waits for
    them to finish early, while pages do wait for the CPU they would take.
    """
    clean = _CLEANER.clean
    return [_without_linkedin_tags(clean(fragment).strip()) for fragment in fragments]
