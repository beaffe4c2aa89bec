"""The platform's checkpoint signing key: made on first start and kept outside the database
(a database administrator who rewrites a chain must not be able to sign its new head), or
given by configuration when several machines sign; rotatable, every key it ever signed with
published with the times it was in use.

The directory (SIGNING_KEY_DIR, default var/signing-keys) holds `keyring.json`, the public
keys exactly as /audit/keys.json serves them, and `<key id>.seed`, the current key's
32-byte private seed in hex (none when SIGNING_KEY_SEED gives it). A rotated key's seed is
deleted: it has no more checkpoints to sign, and its public key stays in the keyring.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.audit import checkpoint as checkpoints
from app.audit.chain import format_time
from app.config import Settings, get_settings

log = logging.getLogger("app.audit.keys")

KEYRING = "keyring.json"
DRAW_KEY = "draw-secret.key"
LOCK = ".lock"


class SigningKeyError(RuntimeError):
    """The signing key is misconfigured; the message says what to do (an operator reads it
    at start or from the command line)."""


def parse_seed(text: str) -> bytes:
    """A 32-byte seed written as 64 hex characters or as base64."""
    text = text.strip()
    try:
        seed = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        seed = b""
    if len(seed) != 32:
        raise SigningKeyError(
            "SIGNING_KEY_SEED must be 32 bytes written as 64 hex characters or in base64 "
            "(make one with: python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return seed


@dataclass(frozen=True)
class Signer:
    """The current private key, able to sign checkpoints."""

    seed: bytes
    key: str

    def sign(self, *, chain: str, seq: int, head: str, at: str) -> dict[str, Any]:
        return checkpoints.sign(self.seed, chain=chain, seq=seq, head=head, at=at)


def _now() -> str:
    return format_time(datetime.now(UTC))


class Keyring:
    """The signing keys in one directory. Safe to use from several processes at once: every
    change happens under a lock file and replaces keyring.json in one step."""

    def __init__(
        self, directory: Path, seed: bytes | None = None, draw_key: bytes | None = None
    ) -> None:
        self.directory = Path(directory)
        self.configured_seed = seed
        self.configured_draw_key = draw_key
        self._cached: tuple[tuple[int, int, int], Signer, list[checkpoints.PublishedKey]] | None
        self._cached = None

    # Reading ------------------------------------------------------------------------------

    def signer(self) -> Signer:
        """The current key; made (or, with SIGNING_KEY_SEED, recorded) on first use. A
        rotation by another process is picked up, as it replaces keyring.json."""
        return self._load()[0]

    def published(self) -> list[checkpoints.PublishedKey]:
        """Every key the platform has signed with, oldest first."""
        return self._load()[1]

    def read_published(self) -> list[checkpoints.PublishedKey]:
        """The published keys as the keyring file has them, making nothing (a verifier on
        the command line should not create a key): [] when there is no keyring."""
        return self._read()

    def document(self) -> dict[str, Any]:
        return checkpoints.keys_document(self.published())

    def _load(self) -> tuple[Signer, list[checkpoints.PublishedKey]]:
        stamp = self._stamp()
        if self._cached is not None and stamp is not None and self._cached[0] == stamp:
            return self._cached[1], self._cached[2]
        with self._locked():
            signer, keys = self._ensure()
            stamp = self._stamp()
        assert stamp is not None
        self._cached = (stamp, signer, keys)
        return signer, keys

    def _stamp(self) -> tuple[int, int, int] | None:
        try:
            status = (self.directory / KEYRING).stat()
        except FileNotFoundError:
            return None
        return (status.st_ino, status.st_mtime_ns, status.st_size)

    def _ensure(self) -> tuple[Signer, list[checkpoints.PublishedKey]]:
        """Under the lock: the current key, made or recorded if the keyring lacks it."""
        keys = self._read()
        current = [key for key in keys if key.until is None]
        if len(current) > 1:
            raise SigningKeyError(f"{self._path()} names more than one current key")
        if self.configured_seed is not None:
            seed = self.configured_seed
            public = checkpoints.public_key_of(seed).hex()
            known = next((key for key in keys if key.public_key == public), None)
            if known is not None and known.until is not None:
                raise SigningKeyError(
                    f"SIGNING_KEY_SEED holds key {known.key[:16]}…, retired at {known.until}; "
                    "give the current key or a new one"
                )
            if known is None:
                now = _now()
                keys = [*self._retire(keys, now), checkpoints.PublishedKey(public, now)]
                self._write(keys)
                log.info("signing key %s from SIGNING_KEY_SEED recorded", keys[-1].key)
            return Signer(seed, checkpoints.key_id(bytes.fromhex(public))), keys
        if not current:
            return self._make_new(keys)
        key = current[0]
        seed = self._read_seed(key)
        return Signer(seed, key.key), keys

    def _read(self) -> list[checkpoints.PublishedKey]:
        try:
            text = self._path().read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        try:
            return checkpoints.parse_keys(text)
        except checkpoints.FormatError as error:
            raise SigningKeyError(f"{self._path()}: {error.problem}") from None

    def _read_seed(self, key: checkpoints.PublishedKey) -> bytes:
        path = self.directory / f"{key.key}.seed"
        try:
            seed = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except FileNotFoundError:
            raise SigningKeyError(
                f"The current signing key {key.key[:16]}… has no seed in {self.directory} "
                "(was it given by SIGNING_KEY_SEED?): give SIGNING_KEY_SEED again, or run "
                "python -m app rotate-signing-key to start a new key"
            ) from None
        except ValueError:
            seed = b""
        if len(seed) != 32 or checkpoints.public_key_of(seed).hex() != key.public_key:
            raise SigningKeyError(f"{path} does not hold the seed of key {key.key[:16]}…")
        return seed

    def draw_key(self) -> bytes:
        """The key the platform's draw secrets are derived from: configured, or a file
        beside the signing keys made on first use. Never rotated: a draw announced before a
        change must still reveal the secret it committed to."""
        if self.configured_draw_key is not None:
            return self.configured_draw_key
        path = self.directory / DRAW_KEY
        with self._locked():
            if not path.exists():
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="ascii") as handle:
                    handle.write(secrets.token_bytes(32).hex() + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())
            text = path.read_text(encoding="ascii").strip()
        try:
            key = bytes.fromhex(text)
        except ValueError:
            key = b""
        if len(key) != 32:
            raise SigningKeyError(f"{path} does not hold a 32-byte key in hex")
        return key

    # Changing -----------------------------------------------------------------------------

    def rotate(self) -> checkpoints.PublishedKey:
        """A new key becomes current; the old one stays published with the time it stopped."""
        if self.configured_seed is not None:
            raise SigningKeyError(
                "SIGNING_KEY_SEED gives the signing key: put a new seed there (python -c "
                "'import secrets; print(secrets.token_hex(32))') on every machine and restart; "
                "the keyring records the new key at its first use and the old one's end"
            )
        with self._locked():
            keys = self._read()
            old = [key for key in keys if key.until is None]
            _signer, keys = self._make_new(keys)
            for key in old:
                (self.directory / f"{key.key}.seed").unlink(missing_ok=True)
        self._cached = None
        return keys[-1]

    def _make_new(
        self, keys: list[checkpoints.PublishedKey]
    ) -> tuple[Signer, list[checkpoints.PublishedKey]]:
        seed = secrets.token_bytes(32)
        public = checkpoints.public_key_of(seed).hex()
        now = _now()
        new = checkpoints.PublishedKey(public, now)
        path = self.directory / f"{new.key}.seed"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(seed.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        keys = [*self._retire(keys, now), new]
        self._write(keys)
        log.info("new signing key %s", new.key)
        return Signer(seed, new.key), keys

    @staticmethod
    def _retire(keys: list[checkpoints.PublishedKey], now: str) -> list[checkpoints.PublishedKey]:
        """The current key ends where the next begins."""
        return [replace(key, until=now) if key.until is None else key for key in keys]

    def _write(self, keys: list[checkpoints.PublishedKey]) -> None:
        temporary = self.directory / f".{KEYRING}.{os.getpid()}"
        with temporary.open("w", encoding="utf-8") as handle:
            json.dump(checkpoints.keys_document(keys), handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self._path())

    def _path(self) -> Path:
        return self.directory / KEYRING

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with (self.directory / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def keyring_for(settings: Settings) -> Keyring:
    assert settings.signing_key_dir is not None
    seed = settings.signing_key_seed.get_secret_value()
    draw_key = settings.draw_secret_key.get_secret_value()
    return Keyring(
        settings.signing_key_dir,
        parse_seed(seed) if seed else None,
        parse_seed(draw_key) if draw_key else None,
    )


_active: Keyring | None = None


def activate(settings: Settings) -> Keyring:
    """The app's keyring from its settings, its key made now if there is none: the app
    calls this when it starts, and checkpoints are signed with it from then on."""
    global _active
    keyring = keyring_for(settings)
    keyring.signer()
    _active = keyring
    return keyring


def active() -> Keyring:
    """The keyring of the running app, or of the environment's settings (the command line)."""
    global _active
    if _active is None:
        _active = keyring_for(get_settings())
    return _active
