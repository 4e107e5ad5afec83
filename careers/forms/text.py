"""What people type, as we keep it: invisible characters out, one rule for form fields and
file names (candidates' applications, job-alert addresses, uploaded files' names).

Bidi controls make text display in an order other than the one it is stored in (a file
"cv", U+202E, "fdp.exe" shows as "cvexe.pdf"), zero-width and other format characters make two
names that look the same differ, or a name that looks filled in empty. None of them can be
seen by a recruiter, so none of them is kept — except the joiners some scripts spell with.
"""

from __future__ import annotations

import unicodedata

# Every bidi control: the Arabic letter mark, the LRM/RLM marks, embeddings and overrides
# (U+202A–U+202E) and isolates (U+2066–U+2069). All are format characters (Cf) and go with
# the rest below; the set is named because a bidi control in an email address is refused.
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

ZWNJ = "\u200c"  # zero width non-joiner
ZWJ = "\u200d"  # zero width joiner
MVS = "\u180e"  # Mongolian vowel separator
_JOINERS = frozenset((ZWNJ, ZWJ, MVS))

# Letters that are blank by design (Unicode lists them as default-ignorable): the Hangul
# fillers. A name made of them looks empty; modern Korean never needs them.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")

_VIRAMA = 9  # the canonical combining class of viramas (Devanagari ्, Sinhala ්, Khmer ្ …)
_VS16 = "\ufe0f"  # emoji presentation selector


def _cursive(c: str) -> bool:
    """A letter of a script whose letters join (Arabic, Syriac, N'Ko, Mongolian …)."""
    return (
        bool(c)
        and unicodedata.category(c).startswith("L")
        and (
            "\u0600" <= c <= "\u08ff"
            or "\u1800" <= c <= "\u18af"
            or "\ufb50" <= c <= "\ufdff"
            or "\ufe70" <= c <= "\ufefc"
        )
    )


def _mongolian(c: str) -> bool:
    return bool(c) and "\u1820" <= c <= "\u18af" and unicodedata.category(c).startswith("L")


def _pictograph(c: str) -> bool:
    return bool(c) and unicodedata.category(c) == "So"


def _modifier(c: str) -> bool:
    return "\U0001f3fb" <= c <= "\U0001f3ff"  # emoji skin tones


def _base_before(kept: list[str]) -> str:
    """The last kept character that is not a combining mark (or emoji modifier): "" if none."""
    for c in reversed(kept):
        if not unicodedata.category(c).startswith("M") and c != _VS16 and not _modifier(c):
            return c
    return ""


def _base_after(chars: list[str], start: int) -> str:
    """The next character from `start` on that is not a mark or a joiner: "" if none."""
    for c in chars[start:]:
        if not unicodedata.category(c).startswith("M") and c not in _JOINERS:
            return c
    return ""


def _joiner_needed(joiner: str, kept: list[str], chars: list[str], at: int) -> bool:
    """Whether a ZWJ, ZWNJ or MVS carries meaning where it stands.

    The rule follows the one IDNA applies to domain names (RFC 5892, appendix A.1 and A.2),
    with the Unicode joining types approximated by "a letter of a cursive script":

    - ZWJ and ZWNJ right after a virama choose how Indic and Sinhala consonants combine
      (half forms, conjuncts, the Sinhala yansaya and rakaransaya, Malayalam chillus);
    - ZWNJ between two letters of a cursive script is the Persian "half space" that names like
      علی‌زاده (Alizadeh) are spelled with, and it does the same in Kurdish, Urdu or Syriac;
    - the MVS between Mongolian letters picks a letter form in traditional Mongolian script;
    - ZWJ between two pictographs forms one emoji (👩‍💻), which a message may well contain.

    Anywhere else (a ZWJ inside a Latin name, one at either end, two in a row) it only makes
    the text differ from what it shows, and it goes.
    """
    if kept and kept[-1] in _JOINERS:  # never two in a row
        return False
    before, after = _base_before(kept), _base_after(chars, at + 1)
    if joiner in (ZWJ, ZWNJ) and kept and unicodedata.combining(kept[-1]) == _VIRAMA:
        return bool(after)
    if joiner == ZWNJ:
        return _cursive(before) and _cursive(after)
    if joiner == MVS:
        return _mongolian(before) and _mongolian(after)
    return _pictograph(before) and _pictograph(after)


def _unwanted(c: str) -> bool:
    """Controls other than whitespace, format characters, lone surrogates, blank letters."""
    if c in _BLANK_LETTERS:
        return True
    category = unicodedata.category(c)
    if category == "Cc":
        return not c.isspace()  # tabs and line breaks are the caller's to judge
    return category == "Cs" or category == "Cf" and c not in _JOINERS


def strip_invisible(text: str) -> str:
    """`text` in NFC without bidi controls, zero-width and other invisible characters.

    Removed: every format character (Unicode category Cf: bidi controls, U+200B, U+2060,
    U+FEFF, the soft hyphen, tag characters …) except ZWJ, ZWNJ and the Mongolian vowel
    separator where a script needs them (see `_joiner_needed`); control characters other than
    whitespace (C0, DEL, C1); lone surrogates; the Hangul filler letters. Whitespace stays as
    it is for the caller to fold. Normalised to NFC last, so what the removal brought together
    ("e", U+200B, U+0301) composes ("é").
    """
    chars = [c for c in text if not _unwanted(c)]
    kept: list[str] = []
    for at, c in enumerate(chars):
        if c not in _JOINERS or _joiner_needed(c, kept, chars, at):
            kept.append(c)
    return unicodedata.normalize("NFC", "".join(kept))


def clean_text(value: str, *, multiline: bool = False) -> str:
    """A form value as we keep it: NFC, no invisible characters, whitespace folded.

    Bidi controls, zero-width and other format characters and control characters go
    (`strip_invisible`; file names follow the same rule). One line: every run of
    whitespace becomes one space. Multiline (the message): each line break (CR LF, CR, NEL,
    U+2028 …) becomes a line feed, tabs stay, and only the ends are trimmed.
    """
    text = strip_invisible(value)
    if not multiline:
        return " ".join(text.split())
    lines = (
        "".join(c for c in line if c == "\t" or unicodedata.category(c) != "Cc")
        for line in text.splitlines()
    )
    return "\n".join(lines).strip()
