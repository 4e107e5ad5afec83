"""Checks shared by the translation tests: catalogue entries, and English left in a page."""

from __future__ import annotations

import re

import lxml.html
from babel.messages.catalog import Catalog, Message

from careers.sandbox.sample_data import sample_feeds

PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
TAG = re.compile(r"<[^>]+>")


def key(message: Message) -> str:
    """A readable name of an entry for failure messages."""
    return message.id[0] if message.pluralizable else message.id


def forms(message: Message) -> list[str]:
    """Every translated form of an entry (one, or one per plural form)."""
    if message.pluralizable:
        strings = message.string if isinstance(message.string, (list, tuple)) else ()
        return list(strings)
    return [message.string]


def ids(message: Message) -> tuple[str, ...]:
    """The msgid, and the msgid_plural for a plural entry."""
    return (message.id,) if isinstance(message.id, str) else tuple(message.id)


def entries(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


READ_ATTRIBUTES = ("aria-label", "placeholder", "title", "alt", "content")
# Job content comes from Personio in whatever words the company chose ("Account Executive").
CONTENT = sorted(
    {
        text
        for positions in sample_feeds().values()
        for p in positions
        for text in (
            p.name,
            p.department,
            p.subcompany,
            p.recruiting_category,
            *p.offices,
            *p.keywords,
        )
        if text
    },
    key=len,
    reverse=True,
)


def ui_text(html: str) -> str:
    """What a visitor reads or hears: text and labelling attributes, no scripts, no URLs."""
    doc = lxml.html.fromstring(html)
    for node in doc.xpath("//script | //style | //*[contains(@class, 'prose')]"):
        node.drop_tree()
    parts = []
    for element in doc.iter():
        if not isinstance(element.tag, str):
            continue
        parts += [element.text or "", element.tail or ""]
        parts += [
            value
            for name, value in element.attrib.items()
            if name in READ_ATTRIBUTES or name.startswith("data-msg-")
        ]
    return re.sub(r"\s+", " ", " ".join(parts))


def english_left_over(text: str, german: Catalog) -> list[str]:
    """English UI strings (without placeholders) that appear in a German page."""
    translations = " | ".join(s for m in entries(german) for s in forms(m))
    found = []
    for message in entries(german):
        if message.pluralizable or PLACEHOLDER.search(message.id) or len(message.id) < 4:
            continue
        pattern = r"(?<!\w)" + re.escape(message.id) + r"(?!\w)"
        if re.search(pattern, translations):  # "Trainee", "Jobs", "Student" (in Student*in)
            continue
        if re.search(pattern, text):
            found.append(message.id)
    return found
