"""The readable part of a job page's address (`/en/jobs/42-backend-developer`), which pages
and job-alert mails both build."""

from __future__ import annotations

import re
import unicodedata

_TRANSLIT = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "ae", "Ö": "oe", "Ü": "ue"}
)


def slugify(text: str) -> str:
    """A readable ASCII URL part: 'Backend-Entwickler (m/w/d) München' → 'backend-entwickler-m-w-d-muenchen'."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    ascii_text = ascii_text.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:80].rstrip("-") or "job"
