"""The receipt id in a candidate's receipt URL, signed.

After sending, the candidate lands on `/<lang>/applications/<receipt>` (docs/routes.md): the
receipt is the application's public id under a signature, so a forged or mistyped one is
refused without a store lookup.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer


class Receipts:
    """Receipt ids in URLs are signed: a forged or mistyped one is refused without a lookup."""

    def __init__(self, secret_key: str) -> None:
        self._signer = URLSafeSerializer(secret_key, salt="careers.receipt")

    def make(self, public_id: str) -> str:
        return self._signer.dumps(public_id)

    def read(self, receipt: str) -> str | None:
        if len(receipt) > 200:
            return None
        try:
            value = self._signer.loads(receipt)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None
