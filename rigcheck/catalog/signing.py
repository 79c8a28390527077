"""Ed25519 signatures of catalog feeds: the public keys pinned in the app, verifying and signing.

A feed is signed over its exact bytes; the detached signature is base64 text served at ``URL + ".sig"``.
Two keys are pinned: the primary that signs today's feeds, and a spare whose private half is kept offline
so the primary can be rotated (or revoked) by shipping a release without locking out existing installs.
The private keys never live in this repository.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rigcheck.probe.files import FileReadError, read_capped

# Raw 32-byte Ed25519 public keys, base64. key id -> key.
PINNED_PUBLIC_KEYS: dict[str, str] = {
    "rigcheck-feed-2026-primary": "mpuNsSHyiT45NkLLNLa7D19x9x2fgdCp7lCJ/zL6Pyw=",
    "rigcheck-feed-2026-spare": "SwE5h8HaTwv5uadJD96m8+4HsB4AfqgiiCyMl0VGh/o=",
}

SIGNATURE_MAX_BYTES = 4096
MAX_KEY_BYTES = 64 * 1024
"""A PEM Ed25519 key is about 120 bytes."""
"""A base64 Ed25519 signature is 88 characters; anything much larger is not a signature."""


class SignatureError(ValueError):
    """A signature that is malformed or matches none of the trusted keys, with one sentence saying why."""


class SigningKeyError(ValueError):
    """A private key file that cannot be used for signing, with one sentence saying why."""


def public_key_from_b64(text: str) -> Ed25519PublicKey:
    """Build a public key from its raw base64 form. Raises ``SignatureError`` when it is not one."""
    try:
        raw = base64.b64decode(text, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{text!r} is not a base64 Ed25519 public key") from None


def public_key_b64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def decode_signature(sig_text: bytes | str) -> bytes:
    """Decode a detached base64 signature (surrounding whitespace allowed).

    Raises ``SignatureError`` when it is not base64 of exactly 64 bytes.
    """
    if isinstance(sig_text, bytes):
        try:
            sig_text = sig_text.decode("ascii")
        except UnicodeDecodeError:
            raise SignatureError("the signature file is not base64 text") from None
    try:
        raw = base64.b64decode(sig_text.strip(), validate=True)
    except binascii.Error:
        raise SignatureError("the signature file is not base64 text") from None
    if len(raw) != 64:
        raise SignatureError(f"the signature is {len(raw)} bytes long; an Ed25519 signature is 64")
    return raw


def verify(data: bytes, sig_text: bytes | str, trusted: dict[str, str] | None = None) -> str:
    """Check a detached signature over ``data`` against the trusted keys; return the id of the key that matched.

    ``trusted`` maps key id -> base64 public key and defaults to the keys pinned in the app.
    Raises ``SignatureError`` when the signature is malformed or no trusted key matches.
    """
    signature = decode_signature(sig_text)
    keys = PINNED_PUBLIC_KEYS if trusted is None else trusted
    for key_id, key_b64 in keys.items():
        try:
            public_key_from_b64(key_b64).verify(signature, data)
        except InvalidSignature:
            continue
        return key_id
    raise SignatureError("the feed's signature does not match any trusted rigcheck key")


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read an unencrypted PEM (PKCS#8) Ed25519 private key.

    Raises ``SigningKeyError`` when the file is missing, unreadable or holds another kind of key.
    """
    path = Path(path)
    try:
        pem = read_capped(path, MAX_KEY_BYTES, "the signing key")
    except FileNotFoundError:
        raise SigningKeyError(f"cannot read the signing key {path}: no such file") from None
    except FileReadError as exc:
        raise SigningKeyError(str(exc)) from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path} is not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


def sign(data: bytes, key: Ed25519PrivateKey) -> str:
    """Return the detached base64 signature of ``data`` (one line, no newline)."""
    return base64.b64encode(key.sign(data)).decode("ascii")


def key_id_for(key: Ed25519PrivateKey, trusted: dict[str, str] | None = None) -> str | None:
    """The pinned id of this private key's public half, or None when the app does not trust it."""
    public = public_key_b64(key.public_key())
    for key_id, key_b64 in (PINNED_PUBLIC_KEYS if trusted is None else trusted).items():
        if key_b64 == public:
            return key_id
    return None


def generate_private_key_pem() -> bytes:
    """A fresh Ed25519 private key as unencrypted PKCS#8 PEM (for tests and key rotation)."""
    key = Ed25519PrivateKey.generate()
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
