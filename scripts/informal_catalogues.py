"""Keep each language's informal catalogue in step with the extracted strings.

Run by scripts/translations.sh after `pybabel update`, before compiling. Every
careers/translations/<lang>/LC_MESSAGES/informal.po holds only the entries that read
differently when the reader is addressed informally (CAREERS_ADDRESS=informal,
docs/languages.md); messages.po, the formal catalogue, holds every entry. This script

- drops informal entries whose msgid is no longer extracted (the English text changed or
  went away), and names them;
- adds an empty entry, in every language, for each msgid whose formal German translation
  addresses the reader ("Sie", "Ihr", "Ihnen"): such a string needs its informal wording
  in every language. An empty entry is not compiled (the formal text is shown meanwhile),
  and tests/test_translations.py fails, naming the msgid and the catalogue, until it is
  filled in. Where a language reads the same either way, copy the formal text.

To add a string to the informal catalogues by hand, copy its entry (msgid and msgstr) from
messages.po into informal.po of the same language and write the msgstr informally.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent / "careers" / "translations"
LANGUAGES = ("de", "es", "fr", "it", "nl", "pt")
# The formal German address: capitalised "Sie" and the forms of "Ihr"/"Ihnen". German is
# the yardstick because its formal address always shows in a pronoun, even in a request
# ("Bitte prüfen Sie …"); the other languages often show it only in a verb ending.
GERMAN_FORMAL = re.compile(r"(?<!\w)(Sie|Ihnen|Ihr|Ihre|Ihrem|Ihren|Ihrer|Ihres)(?!\w)")


def _read(path: Path, lang: str, domain: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=lang, domain=domain)


def _key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _strings(message: Message) -> list[str]:
    if isinstance(message.string, (list, tuple)):
        return list(message.string)
    return [message.string or ""]


def addresses_the_reader(message: Message | None) -> bool:
    """Whether a formal German entry speaks to the reader."""
    return message is not None and any(GERMAN_FORMAL.search(s) for s in _strings(message))


def sync() -> int:
    pot = _read(ROOT / "messages.pot", "en", "messages")
    extracted = {_key(m): m for m in pot if m.id}
    german = _read(ROOT / "de" / "LC_MESSAGES" / "messages.po", "de", "messages")
    needed = [k for k in extracted if addresses_the_reader(german.get(extracted[k].id))]
    for lang in LANGUAGES:
        folder = ROOT / lang / "LC_MESSAGES"
        path = folder / "informal.po"
        source = path if path.exists() else folder / "messages.po"
        catalog = _read(source, lang, "informal")
        if not path.exists():  # a new language: the formal header, no entries yet
            for message in [m for m in catalog if m.id]:
                del catalog[message.id]
        for message in [m for m in catalog if m.id and _key(m) not in extracted]:
            print(f"{lang}/informal.po: dropped {_key(message)!r}, no longer extracted")
            del catalog[message.id]
        for key in needed:
            if catalog.get(extracted[key].id) is None:
                template = extracted[key]
                empty = ("",) * catalog.num_plurals if template.pluralizable else ""
                catalog[template.id] = Message(template.id, empty, flags=template.flags)
                print(f"{lang}/informal.po: added {key!r}, translate it informally")
        with path.open("wb") as fh:
            write_po(fh, catalog, width=76, sort_output=True, ignore_obsolete=True)
    return 0


if __name__ == "__main__":
    sys.exit(sync())
