"""Crypto-shredding: personal data at rest is sealed with a key of its own application.

SQLite keeps old page images in its WAL and free pages, and backups keep whatever they
copied; a plain DELETE erases none of them. So each application's payload is encrypted
(AES-256-GCM, its public id as associated data) with a random key kept apart from it, in a
small key store that overwrites what it deletes and keeps no WAL (careers/db/keys.py).
Deleting the key on delivery makes every copy of the payload, wherever it survives,
unreadable.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = b"\x01"
NONCE_BYTES = 12
SEAL_OVERHEAD = len(VERSION) + NONCE_BYTES + 16  # version, nonce, GCM tag


def new_key() -> bytes:
    """A fresh 256-bit key."""
    return AESGCM.generate_key(bit_length=256)


def seal(key: bytes, plaintext: bytes, context: str) -> bytes:
    """`VERSION | nonce | ciphertext+tag`; `context` binds it to one application."""
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())


def seal_into(
    aead: AESGCM, plaintext: bytes | memoryview, context: str, out: bytearray
) -> memoryview:
    """`seal` written into `out` (grown when too small), no copy of the plaintext or the
    ciphertext made on the way: for document chunks of a MiB, sealed one after another into
    one buffer. The view (of the sealed bytes alone) is valid until `out` is used again."""
    length = SEAL_OVERHEAD + len(plaintext)
    if len(out) < length:
        out.extend(bytes(length - len(out)))
    view = memoryview(out)[:length]
    nonce = os.urandom(NONCE_BYTES)
    view[:1] = VERSION
    view[1 : 1 + NONCE_BYTES] = nonce
    aead.encrypt_into(nonce, plaintext, context.encode(), view[1 + NONCE_BYTES :])
    return view


def unseal(key: bytes, sealed: bytes, context: str) -> bytes:
    """The plaintext; `cryptography.exceptions.InvalidTag` if it was altered or mismatched."""
    if sealed[:1] != VERSION:
        raise ValueError("unknown sealing version")
    nonce = sealed[1 : 1 + NONCE_BYTES]
    return AESGCM(key).decrypt(nonce, sealed[1 + NONCE_BYTES :], context.encode())


# A document's file name is personal data too (`Lebenslauf_Anna_Berg.pdf`): the stores keep
# it sealed with its application's key, as text in the same column as before. No cleaned
# file name holds a "/" (files.clean_filename keeps the last path segment), so a name stored
# before names were sealed is told apart by the prefix alone.
SEALED_NAME = "sealed/"
UNREADABLE_NAME = "(file name unreadable)"


def seal_name(key: bytes, name: str, public_id: str) -> str:
    """A file name as the stores keep it: sealed, bound to its application."""
    sealed = seal(key, name.encode(), f"{public_id}:filename")
    return SEALED_NAME + base64.urlsafe_b64encode(sealed).decode("ascii")


def open_name(key: bytes | None, stored: str, public_id: str) -> str:
    """The file name; a name stored before sealing comes back as it is. KeyError without
    the key, InvalidTag or ValueError if it does not open with it."""
    if not stored.startswith(SEALED_NAME):
        return stored
    if key is None:
        raise KeyError(public_id)
    sealed = base64.urlsafe_b64decode(stored.removeprefix(SEALED_NAME))
    return unseal(key, sealed, f"{public_id}:filename").decode()


def show_name(key: bytes | None, stored: str, public_id: str) -> str:
    """For an operator's listing: the name, or a placeholder once it cannot be opened."""
    try:
        return open_name(key, stored, public_id)
    except (KeyError, InvalidTag, ValueError):
        return UNREADABLE_NAME
