"""The audit chain of shared/spec/audit-log.md: canonical form, hashing and verification.

Version 1 entries carry everything in the hashed entry. Version 2 entries have a public
form (what anyone may read) and a private body bound to it by a salted commitment; an
export holds public forms, full forms, or a mix. Pure code, no database: outsiders read
this to trust us, and `verify_lines` is what the verify command and the verify page run on
an export.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = ("chain", "seq", "at", "actor", "action", "subject", "data", "prev", "hash")
VERSION_2 = 2
# The public form of a version-2 entry, in the order the spec writes it; nothing else.
PUBLIC_FIELDS = ("v", "chain", "seq", "at", "action", "subject", "commitment", "prev", "hash")
# The full form adds the private body and the salt that hides it.
PRIVATE_FIELDS = ("body", "salt")
SALT_BYTES = 32
_HEX64 = re.compile(r"[0-9a-f]{64}")


def canonical_json(value: Any) -> str:
    """Keys sorted, no insignificant whitespace, non-ASCII as itself, integers as integers."""
    _reject_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# Values that hold no float, passed over without a call (a draw's record lists thousands
# of references).
_SCALARS = frozenset({str, int, bool, type(None)})


def _reject_floats(value: Any) -> None:
    # A float has no single canonical spelling across languages; the chain holds none.
    if isinstance(value, float):
        raise TypeError("audit data may not contain floats; use integers or strings")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("audit data keys must be strings")
            if type(item) not in _SCALARS:
                _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            if type(item) not in _SCALARS:
                _reject_floats(item)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and Z, e.g. 2027-03-01T09:30:00.123456Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_version_2(entry: Mapping[str, Any]) -> bool:
    """Version 1 entries have no `v`; every later version names itself."""
    return "v" in entry


def entry_hash(entry: Mapping[str, Any]) -> str:
    """Version 1: the entry without `hash`. Version 2: its public form without `hash`, so
    the hash can be checked by anyone, without the body."""
    if is_version_2(entry):
        hashed = {key: entry[key] for key in PUBLIC_FIELDS if key != "hash" and key in entry}
    else:
        hashed = {key: value for key, value in entry.items() if key != "hash"}
    return hashlib.sha256(canonical_json(hashed).encode("utf-8")).hexdigest()


def make_entry(
    *,
    chain: str,
    seq: int,
    at: str,
    actor: str,
    action: str,
    subject: str,
    data: Mapping[str, Any],
    prev: str,
) -> dict[str, Any]:
    """A version-1 entry (chains begun before version 2 go on with these)."""
    entry: dict[str, Any] = {
        "chain": chain,
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "subject": subject,
        "data": dict(data),
        "prev": prev,
    }
    entry["hash"] = entry_hash(entry)
    return entry


def new_salt() -> str:
    """32 random bytes for one entry alone, so a small body (a level from 1 to 5) cannot be
    found by hashing every candidate."""
    return secrets.token_hex(SALT_BYTES)


def commitment(salt: str, body: Mapping[str, Any]) -> str:
    """SHA-256 of the salt's 32 raw bytes followed by the canonical JSON of the body."""
    return hashlib.sha256(bytes.fromhex(salt) + canonical_json(body).encode("utf-8")).hexdigest()


def make_entry_v2(
    *,
    chain: str,
    seq: int,
    at: str,
    actor: str,
    action: str,
    subject: str,
    data: Mapping[str, Any],
    prev: str,
    salt: str | None = None,
) -> dict[str, Any]:
    """The full form of a version-2 entry: its public form plus `body` and `salt`. A fresh
    salt is drawn unless one is given (the worked example gives its own)."""
    salt = salt if salt is not None else new_salt()
    body = {"actor": actor, "data": dict(data)}
    entry: dict[str, Any] = {
        "v": VERSION_2,
        "chain": chain,
        "seq": seq,
        "at": at,
        "action": action,
        "subject": subject,
        "commitment": commitment(salt, body),
        "prev": prev,
    }
    entry["hash"] = entry_hash(entry)
    entry["body"] = body
    entry["salt"] = salt
    return entry


def public_form(entry: Mapping[str, Any]) -> dict[str, Any]:
    """What anyone may read of a version-2 entry: no actor, no data, no salt."""
    return {key: entry[key] for key in PUBLIC_FIELDS}


def export_line(entry: Mapping[str, Any]) -> str:
    """One line of the full export. Version 1: the entry's canonical JSON. Version 2: the
    spec's layout (its field order, then `body` with sorted keys and `salt`)."""
    if not is_version_2(entry):
        return canonical_json({key: entry[key] for key in FIELDS})
    form = public_form(entry)
    if "body" in entry:
        form["body"] = json.loads(canonical_json(entry["body"]))
        form["salt"] = entry["salt"]
    return json.dumps(form, ensure_ascii=False)


def public_export_line(entry: Mapping[str, Any]) -> str:
    """One line of the public export: the public form alone, in the spec's layout."""
    return json.dumps(public_form(entry), ensure_ascii=False)


@dataclass
class Verdict:
    """The result of verifying an export: ok, or the first entry that fails and why."""

    ok: bool
    entries: int
    head: str | None
    chain: str | None = None
    failed_line: int | None = None
    failed_seq: int | None = None
    problem: str | None = None
    problem_args: dict[str, Any] = field(default_factory=dict)
    # What was checked: version-1 entries, version-2 public forms (hash and links only) and
    # version-2 full forms (their commitment too).
    v1_entries: int = 0
    public_entries: int = 0
    full_entries: int = 0
    # The hash of the entry with seq `at_seq` (verify_lines' argument), if the export has it.
    hash_at: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"OK: {self.entries} entries, head {self.head}{self._checked()}"
        where = f"line {self.failed_line}"
        if self.failed_seq is not None:
            where += f" (seq {self.failed_seq})"
        details = ", ".join(f"{key}={value}" for key, value in self.problem_args.items())
        return f"FAILED at {where}: {self.problem}" + (f" ({details})" if details else "")

    def _checked(self) -> str:
        parts = []
        if self.v1_entries:
            parts.append(f"{self.v1_entries} version 1")
        if self.full_entries:
            parts.append(f"{self.full_entries} version 2 with body, commitment checked")
        if self.public_entries:
            parts.append(f"{self.public_entries} version 2 public, body not included")
        return f" ({'; '.join(parts)})" if parts else ""


def verify_lines(lines: Iterable[str], *, at_seq: int | None = None) -> Verdict:
    """Check seq from 1 without gaps, prev links and every hash, and every commitment whose
    body is given; stop at the first failure. `at_seq`: also keep that entry's hash."""
    prev = GENESIS
    chain: str | None = None
    count = 0
    kinds = {"v1": 0, "public": 0, "full": 0}
    hash_at: str | None = None
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        problem, seq, args, kind = _check_line(
            line,
            expected_seq=count + 1,
            prev=prev,
            chain=chain,
            after_version_2=bool(kinds["public"] or kinds["full"]),
        )
        if problem is not None:
            return Verdict(
                ok=False,
                entries=count,
                head=prev if count else None,
                chain=chain,
                failed_line=number,
                failed_seq=seq,
                problem=problem,
                problem_args=args,
                v1_entries=kinds["v1"],
                public_entries=kinds["public"],
                full_entries=kinds["full"],
                hash_at=hash_at,
            )
        entry = json.loads(line)
        chain = entry["chain"]
        prev = entry["hash"]
        count += 1
        kinds[kind] += 1
        if at_seq is not None and entry["seq"] == at_seq:
            hash_at = prev
    if count == 0:
        return Verdict(ok=False, entries=0, head=None, problem="the export holds no entries")
    return Verdict(
        ok=True,
        entries=count,
        head=prev,
        chain=chain,
        v1_entries=kinds["v1"],
        public_entries=kinds["public"],
        full_entries=kinds["full"],
        hash_at=hash_at,
    )


def _check_line(
    line: str, *, expected_seq: int, prev: str, chain: str | None, after_version_2: bool
) -> tuple[str | None, int | None, dict[str, Any], str]:
    """(problem, seq, details, kind) for one line; problem is None when the line is sound.
    kind is "v1", "public" or "full"."""
    try:
        entry = json.loads(line)
    except ValueError:
        return "not valid JSON", None, {}, ""
    if not isinstance(entry, dict):
        return "not a JSON object", None, {}, ""
    if is_version_2(entry):
        return _check_version_2(entry, expected_seq=expected_seq, prev=prev, chain=chain)
    missing = [key for key in FIELDS if key not in entry]
    if missing:
        return "missing fields", None, {"missing": ",".join(missing)}, "v1"
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        return "seq is not an integer", None, {}, "v1"
    if after_version_2:
        # A chain never goes back: a version-1 entry here would put private facts in public.
        return "a version-1 entry follows a version-2 entry", seq, {}, "v1"
    problem = _check_links(entry, seq, expected_seq=expected_seq, prev=prev, chain=chain)
    return problem, seq, _link_args(entry, chain, expected_seq) if problem else {}, "v1"


def _check_version_2(
    entry: dict[str, Any], *, expected_seq: int, prev: str, chain: str | None
) -> tuple[str | None, int | None, dict[str, Any], str]:
    version = entry["v"]
    if not isinstance(version, int) or isinstance(version, bool) or version != VERSION_2:
        return "unknown version", None, {"v": json.dumps(version)[:20]}, ""
    missing = [key for key in PUBLIC_FIELDS if key not in entry]
    has_private = [key for key in PRIVATE_FIELDS if key in entry]
    if has_private:
        missing += [key for key in PRIVATE_FIELDS if key not in entry]
    if missing:
        return "missing fields", None, {"missing": ",".join(missing)}, ""
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        return "seq is not an integer", None, {}, ""
    kind = "full" if has_private else "public"
    # Only what the hash or the commitment covers may be in the entry.
    extra = [key for key in entry if key not in PUBLIC_FIELDS and key not in PRIVATE_FIELDS]
    if extra:
        return "fields that do not belong in the entry", seq, {"extra": ",".join(extra)}, kind
    wrong = [
        key for key in PUBLIC_FIELDS if key not in ("v", "seq") and not isinstance(entry[key], str)
    ]
    if wrong:
        return "fields are not text", seq, {"fields": ",".join(wrong)}, kind
    problem = _check_links(entry, seq, expected_seq=expected_seq, prev=prev, chain=chain)
    if problem is not None:
        return problem, seq, _link_args(entry, chain, expected_seq), kind
    if kind == "public":
        return None, seq, {}, kind
    body, salt = entry["body"], entry["salt"]
    if not isinstance(salt, str) or not _HEX64.fullmatch(salt):
        return "the salt is not 64 lowercase hexadecimal characters", seq, {}, kind
    if (
        not isinstance(body, dict)
        or set(body) != {"actor", "data"}
        or not isinstance(body["actor"], str)
        or not isinstance(body["data"], dict)
    ):
        return "the body is not an actor and data", seq, {}, kind
    try:
        recomputed = commitment(salt, body)
    except TypeError:
        return "entry cannot be put in canonical form", seq, {}, kind
    if recomputed != entry["commitment"]:
        return "commitment does not match the body and salt", seq, {}, kind
    return None, seq, {}, kind


def _check_links(
    entry: dict[str, Any], seq: int, *, expected_seq: int, prev: str, chain: str | None
) -> str | None:
    """The checks every version shares: one chain, consecutive seq, prev, hash."""
    if chain is not None and entry["chain"] != chain:
        return "entry belongs to another chain"
    if seq != expected_seq:
        return "seq is not consecutive"
    if entry["prev"] != prev:
        return "prev does not match the hash of the entry before"
    try:
        recomputed = entry_hash(entry)
    except TypeError:
        return "entry cannot be put in canonical form"
    if entry["hash"] != recomputed:
        return "hash does not match the entry's content"
    return None


def _link_args(entry: dict[str, Any], chain: str | None, expected_seq: int) -> dict[str, Any]:
    """The details worth naming with a link failure."""
    if chain is not None and entry["chain"] != chain:
        return {"found": entry["chain"]}
    if entry["seq"] != expected_seq:
        return {"expected": expected_seq}
    return {}
