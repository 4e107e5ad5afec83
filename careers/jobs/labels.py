"""The words for facets and Personio's codes, as msgids: pages (careers/web/present.py,
lazily through Flask-Babel) and mails (careers/mail/compose.py, through a catalogue of
their own) translate the same entries. Personio publishes codes, not labels
(docs/personio.md §1.4); these are our wording."""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a msgid for extraction (scripts/translations.sh); translated where shown."""
    return message


FACET_NAMES = {
    "office": N_("Location"),
    "department": N_("Department"),
    "employment_type": N_("Employment type"),
    "schedule": N_("Working hours"),
    "seniority": N_("Seniority"),
    "experience": N_("Experience"),
    "subcompany": N_("Company"),
    "category": N_("Category"),
    "account": N_("Employer"),
}
CODE_LABELS = {
    "employment_type": {
        "permanent": N_("Permanent"),
        "intern": N_("Internship"),
        "trainee": N_("Trainee"),
        "freelance": N_("Freelance"),
        "temporary": N_("Temporary"),
        "working_student": N_("Working student"),
    },
    "schedule": {
        "full-time": N_("Full-time"),
        "part-time": N_("Part-time"),
        "full-or-part-time": N_("Full- or part-time"),
    },
    "seniority": {
        "entry-level": N_("Entry level"),
        "experienced": N_("Experienced"),
        "executive": N_("Executive"),
        "student": N_("Student"),
    },
    "experience": {
        "lt-1": N_("Less than 1 year"),
        "1-2": N_("1–2 years"),
        "2-5": N_("2–5 years"),
        "5-7": N_("5–7 years"),
        "7-10": N_("7–10 years"),
        "10-15": N_("10–15 years"),
        "gt-15": N_("More than 15 years"),
    },
}
