"""How API keys look and how they are hashed; shared by the services and the selectors."""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "smk_"
PREFIX_LENGTH = 12  # "smk_" and 8 random characters, shown in lists to tell keys apart


def key_generate() -> str:
    """A new key: 256 random bits, URL-safe, recognisable by its `smk_` prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
