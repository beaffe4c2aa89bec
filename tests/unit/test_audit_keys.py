"""The platform's signing key: made once outside the database, rotatable, or configured."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.audit import checkpoint as checkpoints
from app.audit.keys import Keyring, SigningKeyError, keyring_for, parse_seed
from app.config import Settings

RFC_SEED_HEX = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC_KEY_ID = "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
HEAD = "7b0b18ea2a1a406213c323cd55f2be55647f540eb11b20aa2684be08384896f0"


def sign_now(keyring: Keyring, at: str | None = None) -> dict:
    keys = keyring.published()
    return keyring.signer().sign(chain="C-1", seq=1, head=HEAD, at=at or keys[-1].since)


def test_the_key_is_made_once_and_kept_in_files_only_its_owner_reads(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    first = Keyring(directory).signer()
    assert Keyring(directory).signer() == first  # a restart, or another worker, finds it
    seed_file = directory / f"{first.key}.seed"
    assert stat.S_IMODE(seed_file.stat().st_mode) == 0o600
    assert bytes.fromhex(seed_file.read_text().strip()) == first.seed
    document = json.loads((directory / "keyring.json").read_text())
    assert document == Keyring(directory).document()
    [key] = document["keys"]
    assert key["key"] == first.key and key["until"] is None and key["algorithm"] == "Ed25519"
    assert first.seed.hex() not in (directory / "keyring.json").read_text()


def test_rotation_keeps_the_old_key_published_and_its_checkpoints_valid(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    server = Keyring(directory)  # a running server, holding the key in memory
    old = server.signer()
    before = sign_now(server)
    new = Keyring(directory).rotate()  # the command line, in another process
    assert new.key != old.key
    assert server.signer().key == new.key  # the server notices the new keyring
    published = server.published()
    assert [key.key for key in published] == [old.key, new.key]
    assert published[0].until == new.since and published[1].until is None
    assert not (directory / f"{old.key}.seed").exists()  # nothing left to sign with it
    assert checkpoints.check_signature(before, published) == (None, {})
    after = sign_now(server)
    assert after["key"] == new.key
    assert checkpoints.check_signature(after, published) == (None, {})
    # The old key cannot sign for a time after it was retired.
    late = checkpoints.sign(
        old.seed, chain="C-1", seq=1, head=HEAD, at="2999-01-01T00:00:00.000000Z"
    )
    problem, _ = checkpoints.check_signature(late, published)
    assert problem == "the checkpoint's time is outside the time its key was in use"


def test_a_configured_seed_is_recorded_and_a_new_one_retires_it(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    configured = Keyring(directory, parse_seed(RFC_SEED_HEX))
    assert configured.signer().key == RFC_KEY_ID
    assert not list(directory.glob("*.seed"))  # the seed stays in the configuration
    assert [key.key for key in configured.published()] == [RFC_KEY_ID]
    with pytest.raises(SigningKeyError, match="SIGNING_KEY_SEED gives the signing key"):
        configured.rotate()
    other = Keyring(directory, bytes(range(32)))
    published = other.published()
    assert [key.key for key in published] == [RFC_KEY_ID, other.signer().key]
    assert published[0].until is not None
    with pytest.raises(SigningKeyError, match="retired"):
        Keyring(directory, parse_seed(RFC_SEED_HEX)).signer()
    # Configured no more: the current key's seed is not in the directory.
    with pytest.raises(SigningKeyError, match="has no seed"):
        Keyring(directory).signer()
    new = Keyring(directory).rotate()  # the way out: a new key, made here
    assert Keyring(directory).signer().key == new.key


def test_seeds_are_hex_or_base64_of_32_bytes() -> None:
    seed = bytes.fromhex(RFC_SEED_HEX)
    assert parse_seed(RFC_SEED_HEX) == seed
    assert parse_seed(base64.b64encode(seed).decode()) == seed
    for bad in ("", "abc", RFC_SEED_HEX[:-2], base64.b64encode(b"short").decode(), "z" * 64):
        with pytest.raises(SigningKeyError):
            parse_seed(bad)


def test_settings_put_the_keys_under_var_and_refuse_a_mistyped_seed(tmp_path: Path) -> None:
    settings = Settings(VAR_DIR=tmp_path, SECRET_KEY="x")
    assert settings.signing_key_dir == tmp_path / "signing-keys"
    assert keyring_for(settings).configured_seed is None
    configured = Settings(VAR_DIR=tmp_path, SECRET_KEY="x", SIGNING_KEY_SEED=RFC_SEED_HEX)
    assert keyring_for(configured).signer().key == RFC_KEY_ID
    assert RFC_SEED_HEX not in repr(configured)
    with pytest.raises(ValidationError, match="SIGNING_KEY_SEED"):
        Settings(VAR_DIR=tmp_path, SECRET_KEY="x", SIGNING_KEY_SEED="not-a-seed")


def test_a_tampered_seed_file_or_keyring_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    key = Keyring(directory).signer().key
    (directory / f"{key}.seed").write_text("00" * 32)
    with pytest.raises(SigningKeyError, match="does not hold the seed"):
        Keyring(directory).signer()
    (directory / "keyring.json").write_text("{broken")
    with pytest.raises(SigningKeyError, match="not valid JSON"):
        Keyring(directory).signer()


def _first_start(directory: str) -> str:
    return Keyring(Path(directory)).signer().key


def test_workers_starting_at_once_make_one_key(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    directory = str(tmp_path / "keys")
    with ProcessPoolExecutor(max_workers=4) as pool:
        made = set(pool.map(_first_start, [directory] * 8))
    assert len(made) == 1
    assert [key.key for key in Keyring(Path(directory)).published()] == list(made)
    assert len(list(Path(directory).glob("*.seed"))) == 1
