"""Keys and tokens: the key file's protection, normalisation, purpose separation."""

import hashlib
import os

import pytest

from p20 import keys
from p20.errors import UsageError


def test_key_init_writes_mode_0600_and_refuses_to_overwrite(zones):
    proc = zones.p20("keys", "init")
    assert proc.returncode == 0, proc.stderr
    path = zones.custodian / "keys" / "master.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    before = path.read_bytes()
    again = zones.p20("keys", "init")
    assert again.returncode == 2
    assert "refusing to overwrite" in again.stderr
    assert path.read_bytes() == before


def test_key_readable_by_others_is_refused(tmp_path):
    path = keys.init_master_key(tmp_path / "k" / "master.key")
    os.chmod(path, 0o644)
    with pytest.raises(UsageError, match="readable by others"):
        keys.load_master_key(path)


@pytest.mark.parametrize("variant", ["0012345678", "12345678", " 0012345678 ", "\u0030\u0030１２３４５６７８"])
def test_normalisation_variants_give_one_token(variant):
    token = keys.tokeniser(b"k" * 32, "student")
    assert token(variant) == token("0012345678")


def test_batch_tokens_are_the_single_id_tokens():
    """`tokenise_many` (the custodian's fast path) and `tokeniser` are the same HMAC."""
    master = os.urandom(32)
    raw = ["0012345678", " 12345678", "１２３４５６７８", "", "  ", "T000042", "0"]
    normalised, tokens = keys.tokenise_many(master, "teacher", raw)
    one = keys.tokeniser(master, "teacher")
    assert normalised == [keys.normalise_id(v) for v in raw]
    assert tokens == [one(v) if keys.normalise_id(v) else None for v in raw]
    assert tokens[0] == tokens[1] == tokens[2] and tokens[3] is tokens[4] is None


def test_different_ids_and_purposes_and_keys_give_different_tokens():
    master = b"m" * 32
    student = keys.tokeniser(master, "student")
    assert student("1234567890") != student("1234567891")
    assert student("1234567890") != keys.tokeniser(master, "teacher")("1234567890")
    assert student("1234567890") != keys.tokeniser(b"w" * 32, "student")("1234567890")
    assert len(student("1234567890")) == 64


def test_unkeyed_hash_of_the_id_is_not_the_token():
    token = keys.tokeniser(b"m" * 32, "student")("1234567890")
    assert token != hashlib.sha256(b"1234567890").hexdigest()


def test_fingerprint_is_stable_and_not_the_key():
    master = os.urandom(32)
    assert keys.fingerprint(master) == keys.fingerprint(master)
    assert keys.fingerprint(master) not in master.hex()
