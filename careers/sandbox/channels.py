"""The sandbox's recruiting channels, as created in Personio (Settings > Recruiting >
Channels): the recruiting API refuses any other id with channel-not-found (docs/personio.md
§2.3), and the received-applications page names them. A module of its own because both
recruiting.py and pages.py need it, and recruiting.py imports pages.py."""

from __future__ import annotations

DEFAULT_CHANNELS: dict[int, str] = {
    2001: "LinkedIn",
    2002: "StepStone",
    2003: "Indeed",
    2004: "Employee referral",  # CAREERS_REFERRAL_CHANNEL in `careers demo` (docs/referrals.md)
}
