"""The package signature: Ed25519 over the exact bytes of ``manifest.json``.

Asymmetric on purpose: the provider signs with a private key only Artemis holds
(``ARTEMIS_PACKAGE_SIGNING_KEY`` or ``ARTEMIS_PACKAGE_SIGNING_KEY_FILE``, PEM); a recipient
verifies with the public key the provider publishes, and cannot forge a package with it.

The fingerprint that names a key is ``SHA256:`` and the hex SHA-256 of the public key in DER
(SubjectPublicKeyInfo), so anyone can recompute it with
``openssl pkey -pubin -in key.pem -outform DER | sha256sum``.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from review.models import ReviewError

SETTING = "ARTEMIS_PACKAGE_SIGNING_KEY"


class BadKey(ValueError):
    """A key that cannot be read or is not Ed25519; the message says which and why."""


def signing_key() -> Ed25519PrivateKey:
    """The configured private key. Raises ReviewError naming the setting when it is missing
    or is not an Ed25519 private key in PEM."""
    pem = getattr(settings, SETTING, "")
    if not pem:
        raise ReviewError(
            f"{SETTING} (or {SETTING}_FILE) is not set: a referral package cannot be signed "
            "without the provider's Ed25519 key. Create one with "
            "`manage.py package_signing_key` and point "
            f"{SETTING}_FILE at it",
            code="not_configured",
        )
    try:
        return private_key_from_pem(pem.encode())
    except BadKey as exc:
        raise ReviewError(f"{SETTING}: {exc}", code="not_configured") from None


def private_key_from_pem(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise BadKey(f"not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKey(f"holds a {type(key).__name__}; an Ed25519 private key is required")
    return key


def public_key_from_pem(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise BadKey(f"not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BadKey(f"holds a {type(key).__name__}; an Ed25519 public key is required")
    return key


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + hashlib.sha256(der).hexdigest()


def private_key_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def sign(data: bytes, key: Ed25519PrivateKey) -> bytes:
    """The raw 64-byte Ed25519 signature (what ``openssl pkeyutl -verify -rawin`` reads)."""
    return key.sign(data)


def signature_valid(data: bytes, signature: bytes, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True
