"""The audit chain's pure code against shared/spec/audit-log.md."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pytest

from app.audit.chain import (
    GENESIS,
    canonical_json,
    entry_hash,
    export_line,
    format_time,
    make_entry,
    verify_lines,
)


def build_chain(count: int, chain: str = "ANE-UTR-2027-1") -> list[dict]:
    entries, prev = [], GENESIS
    for seq in range(1, count + 1):
        entry = make_entry(
            chain=chain,
            seq=seq,
            at=f"2027-03-01T09:30:{seq:02d}.123456Z",
            actor="user:42",
            action="sheet.submitted",
            subject=f"application:{chain}-{seq:04d}",
            data={"criterion": "zelfreflectie", "level": seq, "reden": "één"},
            prev=prev,
        )
        entries.append(entry)
        prev = entry["hash"]
    return entries


def lines(entries: list[dict]) -> list[str]:
    return [export_line(entry) + "\n" for entry in entries]


def test_canonical_json_sorts_keys_has_no_spaces_and_keeps_non_ascii() -> None:
    assert (
        canonical_json({"b": 1, "a": {"z": "é", "y": [1, 2]}}) == '{"a":{"y":[1,2],"z":"é"},"b":1}'
    )


def test_floats_are_refused_because_they_have_no_single_canonical_spelling() -> None:
    with pytest.raises(TypeError):
        canonical_json({"score": 3.5})


def test_hash_is_sha256_of_canonical_entry_without_hash() -> None:
    entry = build_chain(1)[0]
    body = {key: value for key, value in entry.items() if key != "hash"}
    expected = hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    assert entry["hash"] == expected == entry_hash(entry)
    assert entry["prev"] == "0" * 64


def test_hand_computed_entry_matches_the_spec_byte_for_byte() -> None:
    entry = make_entry(
        chain="X-1",
        seq=1,
        at="2027-03-01T09:30:00.123456Z",
        actor="system",
        action="procedure.created",
        subject="procedure:X-1",
        data={},
        prev=GENESIS,
    )
    text = (
        '{"action":"procedure.created","actor":"system","at":"2027-03-01T09:30:00.123456Z",'
        '"chain":"X-1","data":{},"prev":"' + GENESIS + '","seq":1,"subject":"procedure:X-1"}'
    )
    assert entry["hash"] == hashlib.sha256(text.encode()).hexdigest()


def test_time_format_is_rfc3339_utc_with_microseconds() -> None:
    moment = datetime(2027, 3, 1, 9, 30, 0, 123456, tzinfo=UTC)
    assert format_time(moment) == "2027-03-01T09:30:00.123456Z"


def test_a_sound_chain_verifies_and_reports_its_head() -> None:
    entries = build_chain(5)
    verdict = verify_lines(lines(entries))
    assert verdict.ok and verdict.entries == 5 and verdict.head == entries[-1]["hash"]


def test_an_edited_entry_is_named() -> None:
    entries = build_chain(5)
    entries[2]["data"]["level"] = 4
    verdict = verify_lines(lines(entries))
    assert not verdict.ok and verdict.failed_seq == 3 and "hash" in (verdict.problem or "")


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = build_chain(5)
    entries[2]["data"]["level"] = 4
    entries[2]["hash"] = entry_hash(entries[2])
    verdict = verify_lines(lines(entries))
    assert not verdict.ok and verdict.failed_seq == 4 and "prev" in (verdict.problem or "")


def test_a_removed_entry_is_named() -> None:
    entries = build_chain(5)
    del entries[1]
    verdict = verify_lines(lines(entries))
    assert not verdict.ok and verdict.failed_line == 2 and verdict.failed_seq == 3


def test_reordered_entries_are_named() -> None:
    entries = build_chain(5)
    entries[1], entries[2] = entries[2], entries[1]
    verdict = verify_lines(lines(entries))
    assert not verdict.ok and verdict.failed_line == 2


def test_garbage_and_foreign_entries_get_a_clear_verdict() -> None:
    good = lines(build_chain(2))
    assert verify_lines([good[0], "{not json\n"]).failed_line == 2
    assert verify_lines(["[1, 2]\n"]).problem == "not a JSON object"
    assert "missing" in (verify_lines(['{"seq": 1}\n']).problem or "")
    other = lines(build_chain(2, chain="OTHER-1"))
    assert verify_lines([good[0], other[1]]).problem == "entry belongs to another chain"
    assert not verify_lines([]).ok


def test_describe_names_the_line_and_seq() -> None:
    entries = build_chain(3)
    entries[1]["actor"] = "user:7"
    assert "line 2 (seq 2)" in verify_lines(lines(entries)).describe()
