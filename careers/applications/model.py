"""An accepted application as a type: what intake produces, the outbox keeps and delivery sends.

Personal data lives in `Application` until Personio has it. The outbox stores it as JSON
(`to_record` / `from_record`, the store's own format); only `careers/applications/wire.py`
knows how Personio wants it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, replace
from typing import Any

from ..personio.vocabulary import DocumentCategory


@dataclass(frozen=True)
class Attribute:
    """One system or custom applicant attribute (`phone`, `custom_attribute_123`, …)."""

    id: str
    value: str


@dataclass(frozen=True)
class Attachment:
    """A checked file in the spool, with the cleaned name Personio will show."""

    category: DocumentCategory
    filename: str
    path: str
    size: int
    sha256: str = ""  # of the content, to tell a resent form from another one


@dataclass(frozen=True)
class Application:
    """Everything accepted from the candidate for one position."""

    position_id: int
    language: str
    first_name: str
    last_name: str
    email: str
    message: str = ""
    attributes: tuple[Attribute, ...] = ()
    channel_id: int | None = None
    tags: tuple[str, ...] = ()
    documents: tuple[Attachment, ...] = ()
    # The Personio account it goes to (careers/accounts.py); "" is the first. Not personal
    # data: the outbox keeps it in a column of its own, beside the position.
    account: str = ""

    def channel_as_tag(self) -> Application:
        """Personio does not know our channel id: keep it as a tag instead, so the source
        is not lost and the application is not refused for it."""
        if self.channel_id is None:
            return self
        return replace(self, channel_id=None, tags=(*self.tags, f"channel:{self.channel_id}"))

    def fingerprint(self, key: bytes) -> str:
        """A keyed hash of everything the candidate sent (not where it lies on disk): the
        same form posted twice has the same fingerprint, and it reveals nothing."""
        content = self.to_record() | {
            "position": self.position_id,
            "language": self.language,
            "documents": [[d.category, d.filename, d.size, d.sha256] for d in self.documents],
        }
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False).encode()
        return hmac.new(key, canonical, hashlib.sha256).hexdigest()

    def to_record(self) -> dict[str, Any]:
        """The personal part as the outbox stores it (format kept since the first release)."""
        record: dict[str, Any] = {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "message": self.message,
            "attributes": [{"id": a.id, "value": a.value} for a in self.attributes],
        }
        if self.channel_id is not None:
            record["recruiting_channel_id"] = self.channel_id
        if self.tags:
            record["tags"] = list(self.tags)
        return record

    @classmethod
    def from_record(
        cls,
        record: dict[str, Any],
        *,
        position_id: int,
        language: str,
        documents: tuple[Attachment, ...] = (),
        account: str = "",
    ) -> Application:
        """Back from the outbox's JSON."""
        channel = record.get("recruiting_channel_id")
        return cls(
            position_id=position_id,
            language=language,
            first_name=record["first_name"],
            last_name=record["last_name"],
            email=record["email"],
            message=record.get("message", ""),
            attributes=tuple(Attribute(a["id"], a["value"]) for a in record.get("attributes", [])),
            channel_id=int(channel) if channel is not None else None,
            tags=tuple(record.get("tags", ())),
            documents=documents,
            account=account,
        )
