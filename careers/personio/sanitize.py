"""The one place that decides which upstream HTML may reach a candidate's browser."""

from __future__ import annotations

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


def sanitize_html(fragment: str) -> str:
    """Reduce an upstream HTML fragment to the allowlist; the result is safe to render as is."""
    return _CLEANER.clean(fragment).strip()
