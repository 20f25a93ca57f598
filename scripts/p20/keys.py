"""Keys and tokens. One 256-bit master key per partnership stays in the custodian zone; purpose
keys are derived from it with HKDF-SHA256, so tokens made for different purposes never join.

token = HMAC-SHA256(purpose_key, normalise(id)), as 64 lowercase hex characters.

Key files hold base64 text, have mode 0600, are never overwritten, and are refused when group
or others can read them. Three secrets:
- the master key (custodian/keys/master.key or P20_MASTER_KEY): tokens, fingerprint, manifest key;
- the escrow key (custodian/keys/escrow.key or P20_ESCROW_KEY): independent random bytes that
  encrypt the token -> id crosswalk; the master key cannot open it, nor the reverse;
- the manifest key, derived from the master key and handed to the research zone
  ($P20_MANIFEST_KEY_FILE, default warehouse/keys/manifest.key) so that `p20 load` can check a
  manifest's HMAC. It reveals nothing of the master key or the token keys (HKDF is one-way).
- the release key, derived likewise and handed to the research zone ($P20_RELEASE_KEY_FILE,
  default warehouse/keys/release.key): `p20 release` derives each agreement's project key from
  it, so one project's tokens never join another's or the warehouse's. It works on tokens only:
  it cannot make a token from an id.
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
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from p20 import paths
from p20.errors import UsageError

KEY_BYTES = 32
MASTER_KEY_ENV = "P20_MASTER_KEY"  # base64 of the 32 key bytes, for runners without a key file
ESCROW_KEY_ENV = "P20_ESCROW_KEY"
MANIFEST_KEY_FILE_ENV = "P20_MANIFEST_KEY_FILE"
RELEASE_KEY_FILE_ENV = "P20_RELEASE_KEY_FILE"


def master_key_path() -> Path:
    return paths.keys_dir() / "master.key"


def escrow_key_path() -> Path:
    return paths.keys_dir() / "escrow.key"


def manifest_key_path() -> Path:
    """Where the research zone keeps the manifest key."""
    override = os.environ.get(MANIFEST_KEY_FILE_ENV)
    return Path(override) if override else paths.warehouse_dir() / "keys" / "manifest.key"


def release_key_path() -> Path:
    """Where the research zone keeps the release key."""
    override = os.environ.get(RELEASE_KEY_FILE_ENV)
    return Path(override) if override else paths.warehouse_dir() / "keys" / "release.key"


def write_secret(path: Path, key: bytes) -> Path:
    """Write a key file (base64, mode 0600). Refuses to overwrite an existing one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(
            f"{path}: a key already exists; refusing to overwrite it "
            "(every token or file made with it would become unusable)"
        ) from None
    with os.fdopen(fd, "wb") as f:
        f.write(base64.b64encode(key) + b"\n")
    return path


def read_secret(path: Path, env_var: str | None = None, hint: str = "") -> bytes:
    """A key from `env_var` (base64) when set, else from its file, which others must not read."""
    if env_var and os.environ.get(env_var):
        return _decode_key(os.environ[env_var].encode(), env_var)
    if not path.exists():
        raise UsageError(f"{path}: no key file{'; ' + hint if hint else ''}")
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


def init_master_key(path: Path | None = None) -> Path:
    """A new random master key. Refuses to overwrite an existing key."""
    return write_secret(path or master_key_path(), secrets.token_bytes(KEY_BYTES))


def init_escrow_key(path: Path | None = None) -> Path:
    return write_secret(path or escrow_key_path(), secrets.token_bytes(KEY_BYTES))


def load_master_key(path: Path | None = None) -> bytes:
    return read_secret(path or master_key_path(), MASTER_KEY_ENV, "create one with `p20 keys init`")


def load_escrow_key(path: Path | None = None) -> bytes:
    return read_secret(path or escrow_key_path(), ESCROW_KEY_ENV, "create one with `p20 keys init`")


def load_manifest_key() -> bytes:
    return read_secret(
        manifest_key_path(),
        hint="the custodian exports it with `p20 keys export-manifest-key` "
        f"(or point {MANIFEST_KEY_FILE_ENV} at it)",
    )


def load_release_key() -> bytes:
    return read_secret(
        release_key_path(),
        hint="the custodian exports it with `p20 keys export-release-key` "
        f"(or point {RELEASE_KEY_FILE_ENV} at it)",
    )


def derive_key(master: bytes, purpose: str) -> bytes:
    """A purpose key: HKDF-SHA256 with the purpose label as `info` (e.g. 'token:student')."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=f"p20/v1/{purpose}".encode()
    ).derive(master)


def manifest_key(master: bytes) -> bytes:
    return derive_key(master, "manifest")


def release_key(master: bytes) -> bytes:
    return derive_key(master, "release")


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


def tokenise_many(master: bytes, id_kind: str, raw_values: list[str]) -> tuple[list[str], list[str]]:
    """Normalised ids and their tokens for a list of distinct raw ids (empty ids get None):
    the same HMAC as `tokeniser`."""
    normalised = [normalise_id(v) for v in raw_values]
    return normalised, hmac_hex_many(derive_key(master, f"token:{id_kind}"), normalised)


def hmac_hex_many(key: bytes, values: list[str | None]) -> list[str | None]:
    """HMAC-SHA256(key, value) as hex for each value (empty or None gives None). The keyed
    state is computed once and copied per value (cryptography's HMAC copies in C: 1.8x the
    values/s of the standard library's)."""
    keyed = crypto_hmac.HMAC(key, hashes.SHA256())
    out = []
    for value in values:
        if not value:
            out.append(None)
            continue
        h = keyed.copy()
        h.update(value.encode())
        out.append(h.finalize().hex())
    return out


def mac(key: bytes, payload: bytes) -> str:
    return hmac.new(key, payload, hashlib.sha256).hexdigest()
