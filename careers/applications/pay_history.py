"""Refuse a form file that asks for past or current pay (EU Pay Transparency Directive
2023/970, art. 5(2): employers may not ask candidates about their pay history;
docs/personio.md §2.6). Asking what a candidate expects to earn stays allowed.

Custom fields are named `custom_attribute_<n>`, so only their labels say what they ask. A
label is refused when, in its own language, it names pay *and* the present or the past
("current salary", "letztes Gehalt", "salaire actuel", "Gehaltshistorie"). An expectation
("salary expectations", "Gehaltsvorstellung", "prétentions salariales") names no present or
past and passes; a label that asks both ("current salary and expectations") is refused,
because it still asks the first. The words are matched on case- and accent-folded text at
the start of a word (German also inside compounds: "Bruttojahresgehalt").
"""

from __future__ import annotations

import re
import unicodedata

from .form import FormSchema

# Per language: (pay words, present-or-past words), as regular expressions over folded text.
_WORDS: dict[str, tuple[str, str]] = {
    "en": (
        r"\b(salar|pay\b|paid\b|wage|compensation|remuneration|income|earning|ctc\b)",
        r"\b(current|present|previous|prior|past|last|former|histor|existing|today)",
    ),
    "de": (
        r"(gehalt|gehaelt|gehalter|lohn\b|lohns|lohnes|loehne|lohne\b|verguetung|vergutung"
        r"|verdienst|einkommen|bezuge|bezuege)",
        r"(\baktuell|\bderzeit|\bjetzig|\bbisher|\bletzt|\bvorherig|\bfruher|\bfrueher|\bzuletzt"
        r"|\bist-|histori|verlauf|\bgegenwa(e)?rtig)",
    ),
    "fr": (
        r"\b(salair|remuneration|revenu|paie\b)",
        r"\b(actuel|precedent|dernier|derniere|ancien|passe|historique|present)",
    ),
    "es": (
        r"\b(salari|sueldo|remuneracion|ingreso)",
        r"\b(actual|anterior|ultimo|ultima|previo|pasad|historial|presente)",
    ),
    "nl": (
        r"(salaris|\bloon|inkomen|beloning)",
        r"\b(huidig|vorig|laatst|eerder|vroeger|historie|geschiedenis)",
    ),
    "it": (
        r"\b(stipend|retribuzion|salari|reddit|ral\b|compens)",
        r"\b(attual|precedent|ultim|passat|corrent|storico|odiern)",
    ),
    "pt": (
        r"\b(salari|remuneracao|ordenado|rendimento|vencimento)",
        r"\b(atual|actual|anterior|ultimo|ultima|passad|historico|presente)",
    ),
}
_ALL = tuple((re.compile(pay), re.compile(when)) for pay, when in _WORDS.values())


def _fold(text: str) -> str:
    """Lower case without accents ("Gehälter" → "gehalter"; the word lists also know the
    spelled-out "ae" forms)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def asks_pay_history(label: str, language: str) -> bool:
    """Whether a label in `language` asks for present or past pay."""
    folded = _fold(label)
    pairs = (
        ((re.compile(_WORDS[language][0]), re.compile(_WORDS[language][1])),)
        if language in _WORDS
        else _ALL
    )
    return any(pay.search(folded) and when.search(folded) for pay, when in pairs)


def pay_history_problem(form: FormSchema) -> str:
    """One line naming the first field that asks for pay history, '' when none does."""
    for extra in form.fields:
        for language, text in extra.label.items():
            if asks_pay_history(text, language):
                return (
                    f"field {extra.id} ({text!r}) asks for current or past pay, which the EU"
                    " Pay Transparency Directive forbids: ask for salary expectations"
                    " instead (or set CAREERS_PAY_TRANSPARENCY=off outside the EU)"
                )
    return ""
