"""Checking a referral package: every listed file's size, SHA-256 and MD5, that no file is
missing and none is extra, and the signature over the manifest. Needs no database, so it
runs wherever the package is."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from review.cases.referral import signing
from review.cases.referral.package import FORMATS, MANIFEST, SIGNATURE, UNLISTED


@dataclass
class PackageCheck:
    problems: list[str] = field(default_factory=list)
    files_checked: int = 0
    case: str = ""
    key_fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def package_verify(data: bytes, *, public_key: Ed25519PublicKey | None) -> PackageCheck:
    """Check the ZIP in ``data``. ``public_key`` is the provider's published key; without
    one, the signature cannot be trusted and the check says so (a key inside the package
    proves nothing about who made it)."""
    check = PackageCheck()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        check.problems.append(f"not a ZIP file: {exc}")
        return check
    with archive:
        names = [info.filename for info in archive.infolist()]
        for name, n in Counter(names).items():
            if n > 1:
                check.problems.append(f"{name}: appears {n} times in the ZIP")
        manifest_bytes = _read(archive, MANIFEST, check)
        signature = _read(archive, SIGNATURE, check)
        if manifest_bytes is None:
            return check
        try:
            manifest = json.loads(manifest_bytes)
            listed = manifest["files"]
            if not isinstance(listed, list):
                raise TypeError("files is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            check.problems.append(f"{MANIFEST}: cannot be read ({exc})")
            return check
        check.case = str(manifest.get("case", ""))
        if manifest.get("format") not in FORMATS:
            check.problems.append(
                f"{MANIFEST}: format {manifest.get('format')!r} is not one of "
                + ", ".join(sorted(FORMATS))
            )
        _check_signature(manifest, manifest_bytes, signature, public_key, check)
        present = set(names)
        seen: set[str] = set()
        for entry in listed:
            name = str(entry.get("name", "")) if isinstance(entry, dict) else ""
            if not name or name in seen or name in UNLISTED:
                check.problems.append(f"{MANIFEST}: bad or repeated entry {name!r}")
                continue
            seen.add(name)
            if name not in present:
                check.problems.append(f"missing file: {name}")
                continue
            content = _read(archive, name, check)
            if content is None:
                continue
            check.files_checked += 1
            if len(content) != entry.get("bytes"):
                check.problems.append(
                    f"{name}: size {len(content)} does not match the manifest "
                    f"({entry.get('bytes')})"
                )
            if hashlib.sha256(content).hexdigest() != entry.get("sha256"):
                check.problems.append(f"{name}: SHA-256 does not match the manifest")
            if hashlib.md5(content, usedforsecurity=False).hexdigest() != entry.get("md5"):
                check.problems.append(f"{name}: MD5 does not match the manifest")
        for name in sorted(present - seen - UNLISTED):
            check.problems.append(f"extra file not in the manifest: {name}")
    return check


def _read(archive: zipfile.ZipFile, name: str, check: PackageCheck) -> bytes | None:
    try:
        return archive.read(name)
    except KeyError:
        check.problems.append(f"missing file: {name}")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        # A changed byte in the compressed data: the ZIP's own CRC or the inflater catches it.
        check.problems.append(f"{name}: cannot be read from the ZIP ({exc})")
    return None


def _check_signature(
    manifest: dict,
    manifest_bytes: bytes,
    signature: bytes | None,
    public_key: Ed25519PublicKey | None,
    check: PackageCheck,
) -> None:
    named = str((manifest.get("signature") or {}).get("public_key_fingerprint", ""))
    if public_key is None:
        check.problems.append(
            "no public key to check the signature with: pass --public-key FILE (the "
            f"provider's published key; the package names {named or 'no key'})"
        )
        return
    check.key_fingerprint = signing.fingerprint(public_key)
    if signature is None:
        return  # already reported as a missing file
    if not signing.signature_valid(manifest_bytes, signature, public_key):
        check.problems.append(
            f"signature does not verify with key {check.key_fingerprint}"
            + (f" (the package names key {named})" if named != check.key_fingerprint else "")
        )
