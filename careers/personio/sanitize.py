"""The one place that decides which upstream HTML may reach a candidate's browser."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable

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


# Most blocks are clean already: nh3 (html5ever's full parser and serialiser) would give them
# back byte for byte, or with `rel` added to their links, at about 14 ms of CPU a megabyte.
# `_UNCHANGED` accepts a block only when it is written in a small grammar that nh3 is known to
# keep as it is; whatever else, however harmless, goes to nh3. The grammar is proven against
# nh3 itself, not against a reading of it (tests/test_sanitize_fastpath.py: real feeds, the
# generated boards and a fuzzed corpus). What it accepts:
# - text of printable characters, tab and line feed: no `<` or `>`, no other control
#   characters, no no-break space (html5ever writes it back as `&nbsp;`), no byte order mark
#   (dropped at the start), no surrogates, noncharacters or specials;
#   `&` only in `&amp;`, `&lt;`, `&gt;` and `&nbsp;`, which html5ever writes back as they came;
# - `<br>`, and `<strong>`, `<b>`, `<em>`, `<i>`, `<u>` around inline content, two deep;
# - links `<a href="https://host/path">` (a plain host name, URL-safe characters in the path,
#   no port, query or fragment) around inline content without links: nh3 keeps the href as
#   written and adds `rel`, and so does this;
# - `<p>`, `<h3>`, `<h4>` around inline content; `<ul>` and `<ol>` of `<li>` items holding
#   inline content, paragraphs and lists (two deep), with only whitespace between the items.
# Every tag is lower case, has no attributes (but a link's href) and is closed where it was
# opened: nothing for the HTML parser to repair, so nothing it would change. Every quantifier
# is possessive and every alternative starts differently, so a block is read in linear time.
_TEXT = (
    r"(?:[\t\n -%'-;=?-~\xa1-\ud7ff\ue000-\ufdcf\ufdf0-\ufefe\uff00-\uffef\U00010000-\U0010ffff]++"
    r"|&(?:amp|lt|gt|nbsp);)"
)
# Host labels with single hyphens only: `xn--…` labels are punycode, which the URL parser may
# refuse, and nh3 then drops the href. The last label starts with a letter (not an IP address).
_LABEL = r"(?=[a-z0-9-]{1,63}[./\"])[a-z0-9]++(?:-[a-z0-9]++)*+"
_HREF = rf"https://(?:{_LABEL}\.)*+(?=[a-z]){_LABEL}(?:/[A-Za-z0-9._~/-]*+)?"
_SPACE = r"[ \t\n]*+"


def _content(elements: list[str]) -> str:
    """Any run of text and of these elements, each written without its opening `<`: after a
    `<`, the parser tries the elements' names rather than each whole alternative again."""
    return rf"(?:{_TEXT}|<(?:{'|'.join(elements)}))*+"


def _inline(depth: int, *, links: bool = True) -> list[str]:
    """Inline elements: a break, emphasis (and links) up to `depth` elements deep."""
    elements = ["br>"]
    if depth:
        inner = _content(_inline(depth - 1, links=links))
        elements += [f"{tag}>{inner}</{tag}>" for tag in ("strong", "b", "em", "i", "u")]
        if links:  # never a link in a link: html5ever would close the first one
            plain = _content(_inline(depth - 1, links=False))
            elements.append(f'a href="{_HREF}">{plain}</a>')
    return elements


def _lists(item: list[str]) -> list[str]:
    """`<ul>` and `<ol>` of `<li>` items holding text and the elements `item`."""
    return [
        f"{tag}>(?:{_SPACE}<li>{_content(item)}</li>)*+{_SPACE}</{tag}>" for tag in ("ul", "ol")
    ]


_INLINE = _inline(2)
_PARAGRAPHS = [f"{tag}>{_content(_INLINE)}</{tag}>" for tag in ("p", "h3", "h4")]
_ITEM = [*_INLINE, _PARAGRAPHS[0]]
_UNCHANGED = re.compile(_content([*_INLINE, *_PARAGRAPHS, *_lists([*_ITEM, *_lists(_ITEM)])]))

# Cut-off markup the grammar must refuse, and a block it must accept: checked at import.
MUST_REFUSE = ("<p>x", 'hi <a href="https://x', "<ul><li><b>x")
MUST_ACCEPT = '<p>a <b>b</b></p><ul><li><a href="https://example.com/x">c</a></li></ul>'


def fast_path_sound(
    fullmatch: Callable[[str], object], version: tuple[int, ...] = sys.version_info[:3]
) -> bool:
    """Whether the grammar can be trusted on this Python. CPython 3.11.0 to 3.11.4 let a
    possessive repeat match what it must refuse (CPython issues gh-106052 and gh-100061,
    fixed in 3.11.5): there `(?:ab?c)*+` matches "a", and the grammar would pass cut-off
    markup such as an unclosed `href="…` to the page as it is. Debian 12's python3, the
    base of the image built with scripts/debian-base, is 3.11.2. There every block goes to
    nh3, as before the fast path: slower, never less safe."""
    if version[:3] < (3, 11, 5) or re.fullmatch(r"(?:ab?c)*+", "a") is not None:
        return False
    return fullmatch(MUST_ACCEPT) is not None and all(fullmatch(b) is None for b in MUST_REFUSE)


FAST_PATH = fast_path_sound(_UNCHANGED.fullmatch)


def _clean(fragment: str) -> str:
    """nh3's cleaning of a fragment; the same string without nh3 when the grammar shows it."""
    if not FAST_PATH or _UNCHANGED.fullmatch(fragment) is None:
        return _CLEANER.clean(fragment)
    if '"' in fragment:  # a link, or a quote in the text (a search for `<a ` costs 8x more)
        # `">` ends a link's start tag and nothing else: text has no `>`, no other tag a quote.
        return fragment.replace('">', '" rel="noopener noreferrer">')
    return fragment


def sanitize_html(fragment: str) -> str:
    """Reduce an upstream HTML fragment to the allowlist; the result is safe to render as is."""
    return _without_linkedin_tags(_clean(fragment).strip())


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
