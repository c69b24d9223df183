"""Encryption of secrets at rest (OAuth tokens, webhook URLs) with rotating Fernet keys.

`SALESMONK_ENCRYPTION_KEYS` lists keys newest first: the first encrypts, every key decrypts,
so a new key can be put in front and old ciphertexts re-encrypted at leisure.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class DecryptionError(Exception):
    """The ciphertext was not made with any configured key (or was tampered with)."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.SALESMONK_ENCRYPTION_KEYS))


def encrypt_str(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt_str(ciphertext: str) -> str:
    try:
        return _current().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("Secret cannot be decrypted with the configured keys.") from exc


def rotate_str(ciphertext: str) -> str:
    """Re-encrypt with the newest key."""
    return _current().rotate(ciphertext.encode()).decode()
