"""The outbox manifest, as both zones see it: its format, the bytes its MAC covers, the seal
(custodian side: `p20 pseudonymise`, `p20 link`, and `p20 keys rotate` for its package) and the
check (research side: `p20 load`, `p20 rekey`). The manifest key is an HKDF of the master key
(p20.keys.manifest_key); the research zone holds that key only, never the master key.

This module imports nothing of either zone's workflows, so the gate need not import the
custodian to read what the custodian wrote.
"""

import hmac
import json
from pathlib import Path

from p20 import keys
from p20.errors import RejectedInput, UsageError

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "p20-outbox/1"


def manifest_payload(manifest: dict) -> bytes:
    """The bytes the manifest's HMAC covers: everything but the MAC, canonically serialised."""
    body = {k: v for k, v in manifest.items() if k != "mac"}
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def seal_manifest(manifest: dict, master: bytes) -> dict:
    """Authenticate a manifest with the manifest key (HKDF of the master key)."""
    return {**manifest, "mac": keys.mac(keys.manifest_key(master), manifest_payload(manifest))}


def is_sealed_by(document: dict, manifest_key: bytes) -> bool:
    """Whether a sealed document (a manifest, a rotation package's rotation.json) carries the
    MAC of `manifest_key` over its payload, i.e. was sealed with it and not altered since."""
    expected = keys.mac(manifest_key, manifest_payload(document))
    return hmac.compare_digest(expected, str(document.get("mac", "")))


def read_manifest(outbox: Path) -> dict | None:
    """An outbox's manifest as written, unchecked (None when there is none or it is not JSON):
    what a new outbox is compared with."""
    try:
        return json.loads((outbox / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def verified_manifest(outbox: Path) -> dict:
    """An outbox's manifest once its format and seal hold under the research zone's manifest
    key; a usage error without one, a rejection when it is not the custodian's as sealed."""
    path = outbox / MANIFEST
    if not path.exists():
        raise UsageError(f"{path}: no manifest; an outbox is made by `p20 pseudonymise`")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise RejectedInput(f"{path.name}: manifest is not valid JSON") from None
    if manifest.get("format") != MANIFEST_FORMAT:
        raise RejectedInput(f"{path.name}: manifest format is not {MANIFEST_FORMAT}")
    if not is_sealed_by(manifest, keys.load_manifest_key()):
        raise RejectedInput(
            f"{path.name}: rule 'manifest authenticity' failed: the manifest was altered after the "
            "custodian sealed it, or it was made with another partnership key; nothing was loaded"
        )
    return manifest
