"""Secrets at rest: webhook signing secrets and bot secrets are stored AES-GCM encrypted
(`enc1:` + base64 of nonce and ciphertext), opened only by the sender when it signs.

The key is `LINLI_NOTIFY_SECRETS_KEY` (base64 of 32 bytes), else derived from the JWT secret,
so a copy of the database alone does not give the secrets away. Rows written before the vault
existed hold plain text and are still read as such.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "enc1:"


class Vault:
    def __init__(self, key: bytes) -> None:
        self.aead = AESGCM(key)

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, fallback: str) -> Vault:
        raw = env.get("LINLI_NOTIFY_SECRETS_KEY")
        if raw:
            return cls(base64.b64decode(raw))
        return cls(hashlib.sha256(b"linli-notify-secrets\x00" + fallback.encode()).digest())

    def seal(self, secret: str | None) -> str | None:
        if secret is None:
            return None
        nonce = os.urandom(12)
        sealed = self.aead.encrypt(nonce, secret.encode(), b"linli-notify")
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str | None) -> str | None:
        if not stored or not stored.startswith(PREFIX):
            return stored  # absent, or written before secrets were sealed
        blob = base64.b64decode(stored.removeprefix(PREFIX))
        return self.aead.decrypt(blob[:12], blob[12:], b"linli-notify").decode()

