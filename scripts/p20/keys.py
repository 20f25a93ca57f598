"""Keys and tokens. One 256-bit master key per partnership stays in the custodian zone; purpose
keys are derived from it with HKDF-SHA256, so tokens made for different purposes never join.

token = HMAC-SHA256(purpose_key, normalise(id)), as 64 lowercase hex characters.
"""

import base64
import hashlib
import hmac
import os
import secrets
import stat
import unicodedata
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from p20.errors import UsageError
from p20.paths import keys_dir

KEY_BYTES = 32
MASTER_KEY_FILE = "master.key"
MASTER_KEY_ENV = "P20_MASTER_KEY"  # base64 of the 32 key bytes, for runners without a key file


def master_key_path() -> Path:
    return keys_dir() / MASTER_KEY_FILE


def init_master_key(path: Path | None = None) -> Path:
    """Write a new random key file with mode 0600. Refuses to overwrite an existing key."""
    path = path or master_key_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(
            f"{path}: a key already exists; refusing to overwrite it "
            "(every token made with it would stop linking)"
        ) from None
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)) + b"\n")
    return path


def load_master_key(path: Path | None = None) -> bytes:
    """The master key from P20_MASTER_KEY or the key file (which must not be readable by others)."""
    if os.environ.get(MASTER_KEY_ENV):
        return _decode_key(os.environ[MASTER_KEY_ENV].encode(), MASTER_KEY_ENV)
    path = path or master_key_path()
    if not path.exists():
        raise UsageError(f"{path}: no key file; create one with `p20 keys init`")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UsageError(f"{path}: key file is readable by others (mode {mode:o}); run chmod 600")
    return _decode_key(path.read_bytes(), str(path))


def _decode_key(text: bytes, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise UsageError(f"{where}: not a base64-encoded {KEY_BYTES * 8}-bit key")
    return key


def derive_key(master: bytes, purpose: str) -> bytes:
    """A purpose key: HKDF-SHA256 with the purpose label as `info` (e.g. 'token:student')."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"p20/v1/{purpose}".encode()
    ).derive(master)


def fingerprint(master: bytes) -> str:
    """A one-way name for a key: identifies which key made a token set, reveals nothing of it."""
    return derive_key(master, "fingerprint").hex()[:16]


def normalise_id(raw: str) -> str:
    """The id as the token sees it: Unicode NFKC (full-width digits become ASCII), surrounding
    whitespace removed, upper case, leading zeros removed. `' 0012345678'`, `'12345678'` and
    `'１２３４５６７８'` are one student; an all-zero id normalises to '0'."""
    text = unicodedata.normalize("NFKC", raw).strip().upper()
    return text.lstrip("0") or ("0" if text else "")


def tokeniser(master: bytes, id_kind: str):
    """A function raw id -> token for one id kind (students, teachers, ...), each under its own key."""
    key = derive_key(master, f"token:{id_kind}")

    def token(raw: str) -> str:
        return hmac.new(key, normalise_id(raw).encode(), hashlib.sha256).hexdigest()

    return token
