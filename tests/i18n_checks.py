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


# --- forms of address (CAREERS_ADDRESS, docs/languages.md) ---------------------------------

# Words only the formal or only the informal address uses, per language, as whole words.
# Case matters where it decides: German "Sie" speaks to the reader, "sie" is she or they; the
# Italian courtesy forms are capitalised ("la Sua candidatura"). Where a language marks the
# address only in verb endings (Spanish "Complete"/"Completa", Portuguese "Preencha"/
# "Preenche"), these words catch pronouns and possessives, and `needs_informal` below makes
# every string that speaks to the reader get an informal entry all the same.
ADDRESS_WORDS: dict[str, dict[str, str]] = {
    "de": {
        "formal": r"Sie|Ihnen|Ihr|Ihre|Ihrem|Ihren|Ihrer|Ihres",
        "informal": r"[Dd]u|[Dd]ich|[Dd]ir|[Dd]ein|[Dd]eine|[Dd]einem|[Dd]einen|[Dd]einer|[Dd]eines",
    },
    "nl": {
        "formal": r"[Uu]|[Uu]w|[Uu]we|[Uu]zelf",
        "informal": r"[Jj]e|[Jj]ij|[Jj]ou|[Jj]ouw|[Jj]ouwe|[Jj]ezelf",
    },
    "fr": {
        # "Vous", its possessives, and the vous-imperatives ("Consultez", "Laissez").
        "formal": r"[Vv]ous|[Vv]otre|[Vv]os|(?!(?:[Cc]hez|[Aa]ssez|[Nn]ez)(?!\w))\w+ez",
        "informal": r"[Tt]u|[Tt]oi|[Tt]on|[Tt]a|[Tt]es|[Tt]e|[Tt]’",
    },
    "es": {
        "formal": r"[Uu]sted|[Uu]stedes",
        "informal": r"[Tt]ú|[Tt]u|[Tt]us|[Tt]i|[Tt]e|[Cc]ontigo",
    },
    "it": {
        "formal": r"Lei|Sua|Suo|Suoi|Sue|L’ha",
        "informal": r"[Tt]u|[Tt]uo|[Tt]ua|[Tt]uoi|[Tt]ue|[Tt]i|[Tt]e",
    },
    "pt": {
        # European Portuguese: formal is the third person ("a sua", "si", "consigo");
        # Brazilian "você" reads as neither here.
        "formal": r"[Ss]i|[Cc]onsigo|[Vv]ocê|[Ss]enhor|[Ss]enhora",
        "informal": r"[Tt]u|[Tt]eu|[Tt]ua|[Tt]eus|[Tt]uas|[Tt]e|[Tt]i|[Cc]ontigo",
    },
}
# A string speaks to the reader when its formal German says "Sie", "Ihr…" or "Ihnen": German
# shows its formal address in a pronoun even in a request ("Bitte prüfen Sie …"). Such a
# string needs an informal entry in every language (scripts/informal_catalogues.py adds an
# empty one); copying the formal text is fine where a language reads the same either way.
GERMAN_FORMAL = re.compile(r"(?<!\w)(?:" + ADDRESS_WORDS["de"]["formal"] + r")(?!\w)")


def address_word(lang: str, address: str, text: str) -> str | None:
    """The first word of `text` that only the given form of address uses, if any."""
    # A whole word, or an elided one ("t’a"): the apostrophe ends it.
    words = ADDRESS_WORDS[lang][address]
    found = re.search(r"(?<!\w)(?:" + words + r")(?:(?<=’)|(?!\w))", text)
    return found[0] if found else None


def needs_informal(german_formal: Message | None) -> bool:
    """Whether a msgid speaks to the reader (judged by its formal German entry)."""
    if german_formal is None:
        return False
    return any(GERMAN_FORMAL.search(s) for s in forms(german_formal) if s)


def effective(formal: Catalog, informal: Catalog | None) -> dict[str, list[str]]:
    """What each msgid reads as: the informal entry where there is one, else the formal
    one; the same fallback the site's catalogues use (careers/paths.py)."""
    result = {}
    for message in entries(formal):
        override = informal.get(message.id) if informal is not None else None
        chosen = override if override is not None and all(forms(override)) else message
        result[key(message)] = forms(chosen)
    return result
