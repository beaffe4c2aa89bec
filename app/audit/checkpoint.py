"""Signed checkpoints of a chain (shared/spec/audit-log.md, "Checkpoints"): the signed
message, Ed25519 signing and checking, the published keys, and the verification of an
export against a checkpoint ("this chain still contains the chain of that day").

Pure code, no database or web: a verifier outside the platform runs exactly this.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.audit.chain import Verdict, verify_lines

VERSION = "selection-audit-checkpoint/v1"
KEYS_VERSION = "selection-audit-keys/v1"
FIELDS = ("version", "chain", "seq", "head", "at", "key", "signature")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")
_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def is_time(value: object) -> bool:
    """RFC 3339 in UTC with microseconds and Z, and a real moment (no 13th month)."""
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        return False
    try:
        datetime.strptime(value, TIME_FORMAT)
    except ValueError:
        return False
    return True


def moment(value: str) -> datetime:
    """An aware datetime of a time that `is_time`."""
    return datetime.strptime(value, TIME_FORMAT).replace(tzinfo=UTC)


def signed_message(*, chain: str, seq: int, head: str, at: str) -> bytes:
    """The bytes the platform signs: version, chain, seq, head and time, one per line."""
    return f"{VERSION}\n{chain}\n{seq}\n{head}\n{at}".encode()


def public_key_of(seed: bytes) -> bytes:
    """The raw 32-byte Ed25519 public key of a 32-byte private seed."""
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def key_id(public_key: bytes) -> str:
    """Lowercase hex SHA-256 of the raw public key: how a checkpoint names its signer."""
    return hashlib.sha256(public_key).hexdigest()


def sign(seed: bytes, *, chain: str, seq: int, head: str, at: str) -> dict[str, Any]:
    """A checkpoint of `chain` at entry `seq` (whose hash is `head`), made at `at`."""
    signature = Ed25519PrivateKey.from_private_bytes(seed).sign(
        signed_message(chain=chain, seq=seq, head=head, at=at)
    )
    return {
        "version": VERSION,
        "chain": chain,
        "seq": seq,
        "head": head,
        "at": at,
        "key": key_id(public_key_of(seed)),
        "signature": signature.hex(),
    }


def to_json(checkpoint: Mapping[str, Any]) -> str:
    """A checkpoint as a file or an e-mail carries it (the spec's layout)."""
    return json.dumps({key: checkpoint[key] for key in FIELDS}, indent=2) + "\n"


@dataclass(frozen=True)
class PublishedKey:
    """One of the platform's public keys and the time from which (and until which) it signed."""

    public_key: str
    since: str
    until: str | None = None

    @property
    def key(self) -> str:
        return key_id(bytes.fromhex(self.public_key))

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "algorithm": "Ed25519",
            "public_key": self.public_key,
            "from": self.since,
            "until": self.until,
        }


def keys_document(keys: Sequence[PublishedKey]) -> dict[str, Any]:
    """What /audit/keys.json serves: every key the platform has signed with."""
    return {"version": KEYS_VERSION, "keys": [key.as_json() for key in keys]}


class FormatError(ValueError):
    """A checkpoint or a keys file that is not one; `problem` is an English sentence that
    `app.audit.labels` translates, `args` its details."""

    def __init__(self, problem: str, **args: Any) -> None:
        super().__init__(problem)
        self.problem = problem
        self.args_ = args


def parse_checkpoint(text: str) -> dict[str, Any]:
    """A checkpoint from its JSON text, every field checked for its form."""
    try:
        value = json.loads(text)
    except ValueError:
        raise FormatError("the checkpoint is not valid JSON") from None
    if not isinstance(value, dict):
        raise FormatError("the checkpoint is not a JSON object")
    missing = [key for key in FIELDS if key not in value]
    if missing:
        raise FormatError("the checkpoint lacks fields", missing=",".join(missing))
    if value["version"] != VERSION:
        raise FormatError("the checkpoint has an unknown version")
    seq = value["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
        raise FormatError("the checkpoint's seq is not a positive whole number")
    checks = {
        "chain": lambda v: isinstance(v, str) and v != "",
        "head": lambda v: isinstance(v, str) and _HEX64.fullmatch(v),
        "at": is_time,
        "key": lambda v: isinstance(v, str) and _HEX64.fullmatch(v),
        "signature": lambda v: isinstance(v, str) and _HEX128.fullmatch(v),
    }
    wrong = [name for name, check in checks.items() if not check(value[name])]
    if wrong:
        raise FormatError("checkpoint fields are not in their form", fields=",".join(wrong))
    return {key: value[key] for key in FIELDS}


def parse_keys(text: str) -> list[PublishedKey]:
    """The published keys: the document of /audit/keys.json, or a list of its key objects."""
    try:
        value = json.loads(text)
    except ValueError:
        raise FormatError("the keys file is not valid JSON") from None
    items = value.get("keys") if isinstance(value, dict) else value
    if not isinstance(items, list) or not items:
        raise FormatError("the keys file lists no keys")
    keys = []
    for item in items:
        public_key = item.get("public_key") if isinstance(item, dict) else None
        since = item.get("from") if isinstance(item, dict) else None
        until = item.get("until") if isinstance(item, dict) else None
        if (
            not isinstance(public_key, str)
            or not _HEX64.fullmatch(public_key)
            or not is_time(since)
            or not (until is None or is_time(until))
        ):
            raise FormatError("a key in the keys file is not in its form")
        assert isinstance(since, str)
        keys.append(PublishedKey(public_key=public_key, since=since, until=until))
    return keys


def check_signature(
    checkpoint: Mapping[str, Any], keys: Iterable[PublishedKey]
) -> tuple[str | None, dict[str, Any]]:
    """(problem, details): the checkpoint is signed by a published key that was in use at
    the checkpoint's time, or the first of these that is not so."""
    key = next((k for k in keys if k.key == checkpoint["key"]), None)
    if key is None:
        return "the checkpoint is signed with a key the platform does not publish", {
            "key": checkpoint["key"][:16]
        }
    message = signed_message(
        chain=checkpoint["chain"], seq=checkpoint["seq"], head=checkpoint["head"],
        at=checkpoint["at"],
    )  # fmt: skip
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(key.public_key)).verify(
            bytes.fromhex(checkpoint["signature"]), message
        )
    except InvalidSignature:
        return "the signature does not match the checkpoint", {}
    # The times have one fixed format, so they compare as text.
    if checkpoint["at"] < key.since or (key.until is not None and checkpoint["at"] > key.until):
        return "the checkpoint's time is outside the time its key was in use", {
            "from": key.since,
            "until": key.until or "",
        }
    return None, {}


@dataclass
class Step:
    """One check of a verification: passed (True), failed (False) or not reached (None)."""

    name: str
    ok: bool | None = None
    problem: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """The verification of an export, with or without a checkpoint, step by step."""

    chain: Verdict
    checkpoint: dict[str, Any] | None
    steps: list[Step]

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    @property
    def failure(self) -> Step | None:
        """The first check that failed."""
        return next((step for step in self.steps if step.ok is False), None)

    def describe(self) -> str:
        """Plain English for the command line."""
        if self.checkpoint is None:
            return self.chain.describe()
        cp = self.checkpoint
        lines = []
        for step in self.steps:
            mark = {True: "ok  ", False: "FAIL", None: "--  "}[step.ok]
            detail = step.problem or ""
            if step.args:
                detail += " (" + ", ".join(f"{k}={v}" for k, v in step.args.items()) + ")"
            lines.append(f"{mark} {step.name}" + (f": {detail}" if detail else ""))
        lines.append(self.chain.describe())
        if self.ok:
            lines.append(
                f"OK: this chain still contains the chain of {cp['at']} "
                f"(entry {cp['seq']}, head {cp['head']}), signed by key {cp['key']}."
            )
        else:
            failure = self.failure
            assert failure is not None
            lines.append(f"FAILED: {failure.name}: {failure.problem}")
        return "\n".join(lines)


SIGNATURE = "the checkpoint's signature"
CHAIN = "the chain"
CONTAINS = "the checkpoint's entry in the chain"


def verify(
    lines: Iterable[str],
    checkpoint: Mapping[str, Any] | None = None,
    keys: Sequence[PublishedKey] = (),
) -> Report:
    """Verify an export (public, full or mixed; version 1 or 2) and, given a checkpoint, its
    signature against `keys` and that the checkpoint's entry still has the checkpoint's head.
    The checks are named in that order; the first one that fails is the report's failure."""
    if checkpoint is None:
        verdict = verify_lines(lines)
        return Report(verdict, None, [Step(CHAIN, verdict.ok, verdict.problem)])
    signature = Step(SIGNATURE)
    problem, args = check_signature(checkpoint, keys)
    signature.ok, signature.problem, signature.args = problem is None, problem, args
    verdict = verify_lines(lines, at_seq=checkpoint["seq"])
    chain = Step(CHAIN, verdict.ok, verdict.problem)
    if not verdict.ok:
        chain.args = {"line": verdict.failed_line or 0, **verdict.problem_args}
    contains = Step(CONTAINS)
    if verdict.chain is not None and verdict.chain != checkpoint["chain"]:
        contains.ok, contains.problem = False, "the checkpoint is of another chain"
        contains.args = {"checkpoint": checkpoint["chain"], "export": verdict.chain}
    elif verdict.ok and verdict.hash_at is None:
        contains.ok, contains.problem = False, "the chain no longer reaches the checkpoint's entry"
        contains.args = {"seq": checkpoint["seq"], "entries": verdict.entries}
    elif verdict.hash_at is not None:
        contains.ok = verdict.hash_at == checkpoint["head"]
        if not contains.ok:
            contains.problem = "the checkpoint's entry has another hash: the chain was rewritten"
            contains.args = {"seq": checkpoint["seq"]}
    # else: the chain broke before reaching the entry; that failure is named already.
    return Report(verdict, dict(checkpoint), [signature, chain, contains])
