"""Operator alerts: what they say, and the keys that keep each one to a single message.

An alert carries facts an operator can act on (receipt id, position, Personio's reason, the
`careers outbox` command) and never a candidate's name, address or files (docs/mail.md).
"""

from __future__ import annotations

from enum import StrEnum


class AlertKind(StrEnum):
    PARKED = "application_parked"  # Personio refused an application for good
    FEED_DOWN = "feed_down"  # the feed has failed for longer than CAREERS_ALERT_FEED_AFTER
    BACKLOG = "backlog_stuck"  # the oldest pending delivery is older than ..._BACKLOG_AFTER
    CREDENTIALS = "credentials_rejected"  # Personio answers 401/403: delivery is paused
    FEED_EMPTY = "feed_empty"  # the feed answers, but the board holds no position
    PAY = "pay_transparency"  # open jobs break CAREERS_PAY_TRANSPARENCY: once a day


# Params per kind (all JSON values, none personal):
# PARKED:    receipt, application_id, position_id, position_title, reason, detail (Personio's
#            reason codes and field names only: RecruitingError.operator_detail), at
# FEED_DOWN: languages (list), failing_since, condition and last_error (what the failure
#            means: careers/personio/diagnosis.py), copy_age (seconds or None), at
# FEED_EMPTY: language, detail, at
# BACKLOG:   pending, oldest_receipt, oldest_age (seconds), last_reason, command, at
# CREDENTIALS: detail (Personio's answer), pending, last_delivered, at
# PAY:       rule, day (UTC date, the subject: one mail a day across hosts), jobs (list of
#            {id, title, problems}), at


def mail_key(kind: AlertKind, subject: str) -> str:
    """The dedupe key of the mail alert about `subject` (a receipt id, an outage's start)."""
    return f"alert:{kind}:{subject}"


def webhook_key(kind: AlertKind, subject: str) -> str:
    return f"webhook:{kind}:{subject}"
