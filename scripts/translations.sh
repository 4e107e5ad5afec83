#!/usr/bin/env bash
# Re-extract UI strings, merge them into every catalogue, and compile the .mo files.
# Run after changing any text in templates/ or careers/; then translate the new entries
# in careers/translations/<lang>/LC_MESSAGES/messages.po (the formal address: "Sie",
# "vous", "u") and run this again.
#
# Each language also has informal.po (CAREERS_ADDRESS=informal: "du", "tu", "jij") with only
# the entries that read differently when the reader is addressed informally. A new string
# that speaks to the reader (its German formal translation says "Sie"/"Ihr"/"Ihnen") gets
# an empty entry there in every language, from scripts/informal_catalogues.py: write its
# informal wording (or copy the formal one where a language reads the same), and run this
# again. To add any other string, copy its entry from messages.po into informal.po and
# reword it. tests/test_translations.py names every msgid missing from either catalogue.
# See docs/languages.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-pybabel}
PYTHON=${PYTHON:-$(dirname "$(command -v "$PYBABEL")")/python}
[ -x "$PYTHON" ] || PYTHON=python3
"$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output \
  --project careers -o careers/translations/messages.pot . >/dev/null 2>&1
"$PYBABEL" update -i careers/translations/messages.pot -d careers/translations \
  --no-fuzzy-matching --ignore-obsolete >/dev/null
"$PYTHON" scripts/informal_catalogues.py
"$PYBABEL" compile -d careers/translations -D "messages informal" --statistics
