"""Signed packs: an Ed25519 signature over a version's manifest.json, with ``cryptography``.

``manifest.json`` lists every file (size, sha256) and every folder of a version and seals
itself with its own sha256, which catches accidents but not a forger: anyone can change a
result, recompute the hashes with workbench's own functions and reseal. A signature by a
private key only the builder holds closes that gap. ``manifest.sig`` beside the manifest
holds::

    {"algorithm": "ed25519", "signed_file": "manifest.json",
     "public_key_fingerprint": "sha256:<hex of the raw 32-byte public key>",
     "signature": "<base64 of the 64-byte signature over manifest.json's bytes>"}

``workbench pack verify DIR --key PUB`` checks the fingerprint names PUB and the signature
verifies with it, then that every byte, file and folder matches the manifest: the pack was
built by the key's holder and nothing was added, removed or changed since. The fingerprint
in manifest.sig is a label, never trusted on its own: only the key the verifier brings
proves anything.

Keys are PEM files (PKCS#8 private key, SubjectPublicKeyInfo public key), as written by
``workbench pack keygen`` or ``openssl genpkey -algorithm ed25519``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from workbench.errors import CheckFailed, input_error
from workbench.io import dumps_json, write_text_atomic
from workbench.packs.manifest import MANIFEST, SIGNATURE

ALGORITHM = "ed25519"
KEY_ENV = "WORKBENCH_SIGN_KEY"  # path of the private key, for schedulers


def _raw_public(public_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def fingerprint(public_key: Any) -> str:
    """``sha256:<hex>`` of the raw 32-byte Ed25519 public key."""
    return "sha256:" + hashlib.sha256(_raw_public(public_key)).hexdigest()


def generate_keypair(private_path: Path, public_path: Path) -> str:
    """Write a new key pair (private key 0600, never over an existing file); its fingerprint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    for p in (private_path, public_path):
        if p.exists() or p.is_symlink():
            raise input_error(p, None, "a path where no file exists yet (keys are never replaced)")
        if not p.parent.is_dir():
            raise input_error(p, None, "a path in an existing folder")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private_pem)
    fd = os.open(public_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(public_pem)
    return fingerprint(key.public_key())


def _read_key_file(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise input_error(path, None, f"an existing {what} file (PEM)")
    return path.read_bytes()


def load_private_key(path: str | os.PathLike[str]) -> Any:
    """An Ed25519 private key from a PEM file; InputError (exit 2) naming the file otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    p = Path(path)
    data = _read_key_file(p, "Ed25519 private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise input_error(
            p, None, "an unencrypted PEM Ed25519 private key (workbench pack keygen)"
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise input_error(p, None, "an Ed25519 private key", type(key).__name__)
    return key


def load_public_key(path: str | os.PathLike[str]) -> Any:
    """An Ed25519 public key from a PEM file; InputError (exit 2) naming the file otherwise."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    p = Path(path)
    data = _read_key_file(p, "Ed25519 public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise input_error(
            p, None, "a PEM Ed25519 public key (the .pub file of workbench pack keygen)"
        ) from exc
    if not isinstance(key, Ed25519PublicKey):
        raise input_error(p, None, "an Ed25519 public key", type(key).__name__)
    return key


def sign_version(version_dir: Path, private_key: Any) -> Path:
    """Write ``manifest.sig`` beside ``manifest.json`` (which must be final)."""
    data = (version_dir / MANIFEST).read_bytes()
    doc = {
        "algorithm": ALGORITHM,
        "signed_file": MANIFEST,
        "public_key_fingerprint": fingerprint(private_key.public_key()),
        "signature": base64.b64encode(private_key.sign(data)).decode("ascii"),
    }
    return write_text_atomic(version_dir / SIGNATURE, dumps_json(doc))


def read_signature(version_dir: Path) -> dict[str, str] | None:
    """The parsed ``manifest.sig``; None when the version is unsigned; CheckFailed if bad."""
    p = version_dir / SIGNATURE
    if not p.exists() and not p.is_symlink():
        return None
    if p.is_symlink() or not p.is_file():
        raise CheckFailed(f"{p}: not a regular file")
    try:
        doc = json.loads(p.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CheckFailed(f"{p}: not valid JSON (modified?)") from exc
    fields = ("algorithm", "signed_file", "public_key_fingerprint", "signature")
    if not isinstance(doc, dict) or not all(isinstance(doc.get(k), str) for k in fields):
        raise CheckFailed(f"{p}: not a workbench signature (expected {', '.join(fields)})")
    if doc["algorithm"] != ALGORITHM:
        raise CheckFailed(f"{p}: algorithm {doc['algorithm']!r} (expected {ALGORITHM})")
    return doc


def check_signature(version_dir: Path, public_key: Any) -> str:
    """Raise CheckFailed unless ``manifest.sig`` is a valid signature by ``public_key``
    over manifest.json's bytes; return the key's fingerprint."""
    from cryptography.exceptions import InvalidSignature

    doc = read_signature(version_dir)
    sig_path = version_dir / SIGNATURE
    if doc is None:
        raise CheckFailed(f"{sig_path}: missing: the pack is not signed, so its origin is unproven")
    want = fingerprint(public_key)
    if doc["public_key_fingerprint"] != want:
        raise CheckFailed(
            f"{sig_path}: signed by key {doc['public_key_fingerprint']}, not by the given key "
            f"{want}"
        )
    try:
        signature = base64.b64decode(doc["signature"], validate=True)
    except ValueError as exc:
        raise CheckFailed(f"{sig_path}: signature is not base64") from exc
    try:
        public_key.verify(signature, (version_dir / MANIFEST).read_bytes())
    except InvalidSignature as exc:
        raise CheckFailed(
            f"{version_dir / MANIFEST}: signature does not match (changed after it was signed)"
        ) from exc
    return want


__all__ = [
    "KEY_ENV",
    "SIGNATURE",
    "check_signature",
    "fingerprint",
    "generate_keypair",
    "load_private_key",
    "load_public_key",
    "read_signature",
    "sign_version",
]
