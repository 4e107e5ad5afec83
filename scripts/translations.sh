#!/usr/bin/env bash
# Re-extract UI strings, merge them into every catalogue, and compile the .mo files.
# Run after changing any text in templates/ or careers/; then translate the new entries
# in careers/translations/<lang>/LC_MESSAGES/messages.po and run this again.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-pybabel}
"$PYBABEL" extract -F babel.cfg -k _l -k lazy_gettext -k N_ --no-location --sort-output \
  --project careers -o careers/translations/messages.pot . >/dev/null 2>&1
"$PYBABEL" update -i careers/translations/messages.pot -d careers/translations \
  --no-fuzzy-matching --ignore-obsolete >/dev/null
"$PYBABEL" compile -d careers/translations --statistics
