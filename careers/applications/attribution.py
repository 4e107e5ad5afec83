"""Where a candidate came from, as Personio understands it (docs/attribution.md).

Personio's job links carry a channel parameter `_pc` (docs/personio.md §1.6), campaigns carry
`utm_source`, `utm_medium` and `utm_campaign`. A numeric `_pc` is a recruiting channel id; a
name is looked up in CAREERS_CHANNELS (`linkedin=2001,stepstone=2002`), and so is
`utm_source` when there is no `_pc`. Everything we know also becomes tags, which Personio
creates when they do not exist yet (§2.3), so nothing is lost when no channel id is known.
The values travel from the landing page to the form signed (`Attribution`), so only values we
saw come back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from itsdangerous import BadSignature, URLSafeSerializer

_TAG_VALUE = re.compile(r"[^\w .:/@+-]+")


def _tag(name: str, value: str) -> str:
    return f"{name}:{_TAG_VALUE.sub('', value)[:80]}"


def channel_and_tags(
    values: dict[str, str], channels: Mapping[str, int]
) -> tuple[int | None, list[str]]:
    """recruiting_channel_id (or None) and tags for the attribution values of a landing URL."""
    channel: int | None = None
    tags: list[str] = []
    pc = values.get("_pc", "").strip()
    if re.fullmatch(r"[0-9]{1,10}", pc) and 0 < int(pc) < 2**31:
        channel = int(pc)
    elif pc:
        channel = channels.get(pc.lower())
        tags.append(_tag("channel", pc))
    source = values.get("utm_source", "").strip()
    if channel is None and source:
        channel = channels.get(source.lower())
    for name in ("utm_source", "utm_medium", "utm_campaign"):
        if values.get(name, "").strip():
            tags.append(_tag(name, values[name].strip()))
    return channel, tags


class Attribution:
    """Signs the landing URL's attribution for the form, so only values we saw come back."""

    def __init__(self, secret_key: str) -> None:
        self._signer = URLSafeSerializer(secret_key, salt="careers.attribution")

    def sign(self, values: dict[str, str]) -> str:
        return self._signer.dumps(values) if values else ""

    def read(self, token: str) -> dict[str, str]:
        """The signed values, or nothing: a bad token costs the attribution, not the application."""
        if not token or len(token) > 2000:
            return {}
        try:
            values = self._signer.loads(token)
        except BadSignature:
            return {}
        if not isinstance(values, dict):
            return {}
        return {str(k): str(v) for k, v in values.items() if isinstance(v, str)}
