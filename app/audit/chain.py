"""The audit chain of shared/spec/audit-log.md: canonical form, hashing and verification.

Pure code, no database: outsiders read this to trust us, and `verify_lines` is what the
verify command and the verify page run on an export.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
FIELDS = ("chain", "seq", "at", "actor", "action", "subject", "data", "prev", "hash")


def canonical_json(value: Any) -> str:
    """Keys sorted, no insignificant whitespace, non-ASCII as itself, integers as integers."""
    _reject_floats(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _reject_floats(value: Any) -> None:
    # A float has no single canonical spelling across languages; the chain holds none.
    if isinstance(value, float):
        raise TypeError("audit data may not contain floats; use integers or strings")
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("audit data keys must be strings")
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds and Z, e.g. 2027-03-01T09:30:00.123456Z."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {key: value for key, value in entry.items() if key != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


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


def export_line(entry: Mapping[str, Any]) -> str:
    return canonical_json({key: entry[key] for key in FIELDS})


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

    def describe(self) -> str:
        if self.ok:
            return f"OK: {self.entries} entries, head {self.head}"
        where = f"line {self.failed_line}"
        if self.failed_seq is not None:
            where += f" (seq {self.failed_seq})"
        details = ", ".join(f"{key}={value}" for key, value in self.problem_args.items())
        return f"FAILED at {where}: {self.problem}" + (f" ({details})" if details else "")


def verify_lines(lines: Iterable[str]) -> Verdict:
    """Check seq from 1 without gaps, prev links and every hash; stop at the first failure."""
    prev = GENESIS
    chain: str | None = None
    count = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        problem, seq, args = _check_line(line, expected_seq=count + 1, prev=prev, chain=chain)
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
            )
        entry = json.loads(line)
        chain = entry["chain"]
        prev = entry["hash"]
        count += 1
    if count == 0:
        return Verdict(ok=False, entries=0, head=None, problem="the export holds no entries")
    return Verdict(ok=True, entries=count, head=prev, chain=chain)


def _check_line(
    line: str, *, expected_seq: int, prev: str, chain: str | None
) -> tuple[str | None, int | None, dict[str, Any]]:
    """(problem, seq, details) for one line; problem is None when the line is sound."""
    try:
        entry = json.loads(line)
    except ValueError:
        return "not valid JSON", None, {}
    if not isinstance(entry, dict):
        return "not a JSON object", None, {}
    missing = [key for key in FIELDS if key not in entry]
    if missing:
        return "missing fields", None, {"missing": ",".join(missing)}
    seq = entry["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool):
        return "seq is not an integer", None, {}
    if chain is not None and entry["chain"] != chain:
        return "entry belongs to another chain", seq, {"found": entry["chain"]}
    if seq != expected_seq:
        return "seq is not consecutive", seq, {"expected": expected_seq}
    if entry["prev"] != prev:
        return "prev does not match the hash of the entry before", seq, {}
    try:
        recomputed = entry_hash(entry)
    except TypeError:
        return "entry cannot be put in canonical form", seq, {}
    if entry["hash"] != recomputed:
        return "hash does not match the entry's content", seq, {}
    return None, seq, {}
