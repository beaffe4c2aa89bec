"""Audit chain version 2 and signed checkpoints against shared/spec/audit-log.md: the
worked example byte for byte, and each kind of tampering it is meant to catch."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.audit import chain as chainlib
from app.audit import checkpoint as checkpoints
from app.audit.chain import GENESIS, verify_lines
from app.config import ROOT

# The spec's worked example, copied verbatim (a test below compares it with the spec).
PUBLIC_EXPORT = """\
{"v": 2, "chain": "ANE-UTR-2027-1", "seq": 1, "at": "2027-01-05T09:00:00.000000Z", "action": "procedure.published", "subject": "procedure:ANE-UTR-2027-1", "commitment": "edc471ba98d0308cf7a211c767c521d81b8f5563840e4d9dc3b956c4b61b6130", "prev": "0000000000000000000000000000000000000000000000000000000000000000", "hash": "ebabf7ea615a247b26fd703be2cf2423bd69a0a9c29a8fa7e6539a82ce4f2424"}
{"v": 2, "chain": "ANE-UTR-2027-1", "seq": 2, "at": "2027-01-12T21:14:03.512004Z", "action": "application.submitted", "subject": "application:ANE-UTR-2027-1-0001", "commitment": "9440fa287f42b3fb8fece19fbb2213cfe9f2b67b7478e15fc6775fd2b36c9c88", "prev": "ebabf7ea615a247b26fd703be2cf2423bd69a0a9c29a8fa7e6539a82ce4f2424", "hash": "6bfeb03641907ec10507a756b7df07df1ac28769bc149f7010a8744153a51510"}
{"v": 2, "chain": "ANE-UTR-2027-1", "seq": 3, "at": "2027-02-02T10:41:27.000311Z", "action": "sheet.submitted", "subject": "application:ANE-UTR-2027-1-0001", "commitment": "dceea063b2fe09a24c69368c12657888177e2f702653675f9ee772f939d76635", "prev": "6bfeb03641907ec10507a756b7df07df1ac28769bc149f7010a8744153a51510", "hash": "7b0b18ea2a1a406213c323cd55f2be55647f540eb11b20aa2684be08384896f0"}
"""  # noqa: E501
FULL_EXPORT = """\
{"v": 2, "chain": "ANE-UTR-2027-1", "seq": 1, "at": "2027-01-05T09:00:00.000000Z", "action": "procedure.published", "subject": "procedure:ANE-UTR-2027-1", "commitment": "edc471ba98d0308cf7a211c767c521d81b8f5563840e4d9dc3b956c4b61b6130", "prev": "0000000000000000000000000000000000000000000000000000000000000000", "hash": "ebabf7ea615a247b26fd703be2cf2423bd69a0a9c29a8fa7e6539a82ce4f2424", "body": {"actor": "user:3", "data": {"places": 4, "rubric": "starr-interview-v1"}}, "salt": "1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f1f"}
{"v": 2, "chain": "ANE-UTR-2027-1", "seq": 2, "at": "2027-01-12T21:14:03.512004Z", "action": "application.submitted", "subject": "application:ANE-UTR-2027-1-0001", "commitment": "9440fa287f42b3fb8fece19fbb2213cfe9f2b67b7478e15fc6775fd2b36c9c88", "prev": "ebabf7ea615a247b26fd703be2cf2423bd69a0a9c29a8fa7e6539a82ce4f2424", "hash": "6bfeb03641907ec10507a756b7df07df1ac28769bc149f7010a8744153a51510", "body": {"actor": "user:17", "data": {"documents": {"cv": "9c1185a5c5e9fc54612808977ee8f548b2258d31"}}}, "salt": "a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7"}
{"v": 2, "chain": "ANE-UTR-2027-1", "seq": 3, "at": "2027-02-02T10:41:27.000311Z", "action": "sheet.submitted", "subject": "application:ANE-UTR-2027-1-0001", "commitment": "dceea063b2fe09a24c69368c12657888177e2f702653675f9ee772f939d76635", "prev": "6bfeb03641907ec10507a756b7df07df1ac28769bc149f7010a8744153a51510", "hash": "7b0b18ea2a1a406213c323cd55f2be55647f540eb11b20aa2684be08384896f0", "body": {"actor": "user:5", "data": {"levels": {"motivation": 4, "self_reflection": 3}, "reasons_sha256": "3b5d5c3712955042212316173ccf37be8002f6a0a1dcd9b1c8b2b5a1e83ea7b0"}}, "salt": "5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e"}
"""  # noqa: E501
CHECKPOINT = """\
{
  "version": "selection-audit-checkpoint/v1",
  "chain": "ANE-UTR-2027-1",
  "seq": 3,
  "head": "7b0b18ea2a1a406213c323cd55f2be55647f540eb11b20aa2684be08384896f0",
  "at": "2027-02-02T10:41:28.000000Z",
  "key": "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9",
  "signature": "aaf8489753f4a8adf1b1f6d10cc6a29775b48a6ade881b188bdb019761f3c5d02e131ec50fd44415c88717ca5a0bcb03edd619a7ce3e7e1aff33f825ca26e501"
}
"""  # noqa: E501
# RFC 8032, section 7.1, TEST 1: for examples only.
RFC_SEED = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC_KEYS = [checkpoints.PublishedKey(public_key=RFC_PUBLIC, since="2027-01-01T00:00:00.000000Z")]

REASONS = "3b5d5c3712955042212316173ccf37be8002f6a0a1dcd9b1c8b2b5a1e83ea7b0"
# What the example's entries are made of: time, action, subject, actor, data and salt.
EXAMPLE = [
    (
        "2027-01-05T09:00:00.000000Z",
        "procedure.published",
        "procedure:ANE-UTR-2027-1",
        "user:3",
        {"places": 4, "rubric": "starr-interview-v1"},
        "1f" * 32,
    ),
    (
        "2027-01-12T21:14:03.512004Z",
        "application.submitted",
        "application:ANE-UTR-2027-1-0001",
        "user:17",
        {"documents": {"cv": "9c1185a5c5e9fc54612808977ee8f548b2258d31"}},
        "a7" * 32,
    ),
    (
        "2027-02-02T10:41:27.000311Z",
        "sheet.submitted",
        "application:ANE-UTR-2027-1-0001",
        "user:5",
        {"levels": {"motivation": 4, "self_reflection": 3}, "reasons_sha256": REASONS},
        "5e" * 32,
    ),
]


def build(example: list[tuple[Any, ...]] = EXAMPLE, chain: str = "ANE-UTR-2027-1") -> list[dict]:
    entries, prev = [], GENESIS
    for seq, (at, action, subject, actor, data, salt) in enumerate(example, start=1):
        entry = chainlib.make_entry_v2(
            chain=chain,
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            data=data,
            prev=prev,
            salt=salt,
        )
        entries.append(entry)
        prev = entry["hash"]
    return entries


def lines_of(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def full_lines(entries: list[dict]) -> list[str]:
    return [chainlib.export_line(entry) + "\n" for entry in entries]


def public_lines(entries: list[dict]) -> list[str]:
    return [chainlib.public_export_line(entry) + "\n" for entry in entries]


def example_checkpoint() -> dict[str, Any]:
    return checkpoints.parse_checkpoint(CHECKPOINT)


# The worked example -------------------------------------------------------------------------


def test_the_constants_are_the_spec_s_worked_example() -> None:
    """Where the spec is beside the project (main's checkout, CI), the copies above match it."""
    spec = next(
        (
            path
            for path in (
                ROOT.parent / "shared/spec/audit-log.md",
                Path("/work/shared/spec/audit-log.md"),
            )
            if path.exists()
        ),
        None,
    )
    if spec is None:
        pytest.skip("shared/spec/audit-log.md is not beside the project")
    text = spec.read_text(encoding="utf-8")
    example = text[text.index("## Worked example") :]
    blocks = re.findall(r"```(?:json)?\n(.*?)```", example, re.S)
    assert blocks == [PUBLIC_EXPORT, FULL_EXPORT, CHECKPOINT]
    assert "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60" in example
    assert RFC_PUBLIC in example


def test_building_the_example_gives_its_full_export_byte_for_byte() -> None:
    assert "".join(full_lines(build())) == FULL_EXPORT


def test_the_public_export_is_the_public_form_byte_for_byte() -> None:
    assert "".join(public_lines(build())) == PUBLIC_EXPORT


def test_commitment_is_sha256_of_raw_salt_and_canonical_body() -> None:
    import hashlib

    entry = build()[2]
    body = '{"actor":"user:5","data":{"levels":{"motivation":4,"self_reflection":3},"reasons_sha256":"3b5d5c3712955042212316173ccf37be8002f6a0a1dcd9b1c8b2b5a1e83ea7b0"}}'  # noqa: E501
    assert entry["commitment"] == hashlib.sha256(bytes([0x5E] * 32) + body.encode()).hexdigest()
    assert entry["commitment"] == "dceea063b2fe09a24c69368c12657888177e2f702653675f9ee772f939d76635"


def test_the_example_exports_verify() -> None:
    public = verify_lines(lines_of(PUBLIC_EXPORT))
    assert public.ok and public.entries == 3 and public.public_entries == 3
    assert public.full_entries == 0
    assert public.head == "7b0b18ea2a1a406213c323cd55f2be55647f540eb11b20aa2684be08384896f0"
    full = verify_lines(lines_of(FULL_EXPORT))
    assert full.ok and full.full_entries == 3 and full.head == public.head
    # An applicant's own full entries beside the public chain: a mixed file verifies too.
    mixed = lines_of(PUBLIC_EXPORT)
    mixed[1] = lines_of(FULL_EXPORT)[1]
    verdict = verify_lines(mixed)
    assert verdict.ok and verdict.full_entries == 1 and verdict.public_entries == 2


def test_the_checkpoint_signature_with_rfc_8032_test_key_1() -> None:
    assert checkpoints.public_key_of(RFC_SEED).hex() == RFC_PUBLIC
    assert checkpoints.key_id(bytes.fromhex(RFC_PUBLIC)) == (
        "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
    )
    assert checkpoints.signed_message(
        chain="ANE-UTR-2027-1",
        seq=3,
        at="2027-02-02T10:41:28.000000Z",
        head="7b0b18ea2a1a406213c323cd55f2be55647f540eb11b20aa2684be08384896f0",
    ) == (
        b"selection-audit-checkpoint/v1\nANE-UTR-2027-1\n3\n"
        b"7b0b18ea2a1a406213c323cd55f2be55647f540eb11b20aa2684be08384896f0\n"
        b"2027-02-02T10:41:28.000000Z"
    )
    signed = checkpoints.sign(
        RFC_SEED,
        chain="ANE-UTR-2027-1",
        seq=3,
        at="2027-02-02T10:41:28.000000Z",
        head=build()[-1]["hash"],
    )
    assert checkpoints.to_json(signed) == CHECKPOINT
    assert checkpoints.check_signature(signed, RFC_KEYS) == (None, {})


@pytest.mark.parametrize("export", [PUBLIC_EXPORT, FULL_EXPORT])
def test_the_checkpoint_verifies_against_either_export(export: str) -> None:
    report = checkpoints.verify(lines_of(export), example_checkpoint(), RFC_KEYS)
    assert report.ok, report.describe()
    assert [step.ok for step in report.steps] == [True, True, True]
    assert "still contains the chain of 2027-02-02T10:41:28.000000Z" in report.describe()


# Tampering ----------------------------------------------------------------------------------


def test_one_level_changed_in_a_body_fails_its_commitment() -> None:
    lines = lines_of(FULL_EXPORT)
    lines[2] = lines[2].replace('"motivation": 4', '"motivation": 5')
    verdict = verify_lines(lines)
    assert not verdict.ok
    assert (verdict.failed_line, verdict.failed_seq) == (3, 3)
    assert verdict.problem == "commitment does not match the body and salt"
    report = checkpoints.verify(lines, example_checkpoint(), RFC_KEYS)
    assert report.failure is not None and report.failure.name == checkpoints.CHAIN


def test_a_salt_changed_fails_the_commitment_too() -> None:
    lines = lines_of(FULL_EXPORT)
    lines[0] = lines[0].replace("1f" * 32, "1e" + "1f" * 31)
    assert verify_lines(lines).problem == "commitment does not match the body and salt"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ('"sheet.submitted"', '"sheet.submitter"'),
        ("10:41:27.000311Z", "10:41:27.000312Z"),
        ('"commitment": "dceea', '"commitment": "dceeb'),
    ],
)
@pytest.mark.parametrize("export", [PUBLIC_EXPORT, FULL_EXPORT])
def test_one_character_of_a_public_entry_fails_its_hash(export: str, old: str, new: str) -> None:
    lines = lines_of(export)
    assert old in lines[2]
    lines[2] = lines[2].replace(old, new)
    verdict = verify_lines(lines)
    assert not verdict.ok and verdict.failed_seq == 3
    assert verdict.problem == "hash does not match the entry's content"


def test_a_field_added_to_an_entry_is_refused() -> None:
    """Anything outside the public form and the body would be covered by nothing."""
    for export in (PUBLIC_EXPORT, FULL_EXPORT):
        entry = json.loads(lines_of(export)[1])
        entry["actor"] = "user:999"
        lines = lines_of(export)
        lines[1] = json.dumps(entry) + "\n"
        verdict = verify_lines(lines)
        assert verdict.problem == "fields that do not belong in the entry"
        assert verdict.failed_seq == 2 and verdict.problem_args == {"extra": "actor"}


def test_a_body_without_salt_or_a_malformed_body_is_refused() -> None:
    entry = json.loads(lines_of(FULL_EXPORT)[0])
    del entry["salt"]
    assert verify_lines([json.dumps(entry)]).problem == "missing fields"
    entry = json.loads(lines_of(FULL_EXPORT)[0])
    entry["salt"] = "1F" * 32
    assert verify_lines([json.dumps(entry)]).problem == (
        "the salt is not 64 lowercase hexadecimal characters"
    )
    entry = json.loads(lines_of(FULL_EXPORT)[0])
    entry["body"] = {"actor": "user:3"}
    assert verify_lines([json.dumps(entry)]).problem == "the body is not an actor and data"
    entry = json.loads(lines_of(PUBLIC_EXPORT)[0])
    entry["v"] = 3
    assert verify_lines([json.dumps(entry)]).problem == "unknown version"


def rewritten_without(entries: list[dict], dropped_seq: int) -> list[dict]:
    """What someone with write access to the database can do: drop an entry and rehash
    every later one consistently, bodies and salts kept."""
    kept, prev = [], GENESIS
    for entry in entries:
        if entry["seq"] == dropped_seq:
            continue
        rebuilt = chainlib.make_entry_v2(
            chain=entry["chain"],
            seq=len(kept) + 1,
            at=entry["at"],
            actor=entry["body"]["actor"],
            action=entry["action"],
            subject=entry["subject"],
            data=entry["body"]["data"],
            prev=prev,
            salt=entry["salt"],
        )
        kept.append(rebuilt)
        prev = rebuilt["hash"]
    return kept


def test_an_entry_dropped_and_the_rest_rehashed_verifies_but_the_checkpoint_proves_it() -> None:
    rewritten = rewritten_without(build(), dropped_seq=2)
    for lines in (public_lines(rewritten), full_lines(rewritten)):
        assert verify_lines(lines).ok  # consistent in itself: the chain alone cannot tell
        report = checkpoints.verify(lines, example_checkpoint(), RFC_KEYS)
        assert not report.ok
        assert [step.ok for step in report.steps] == [True, True, False]
        assert report.failure is not None and report.failure.name == checkpoints.CONTAINS
        assert report.failure.problem == "the chain no longer reaches the checkpoint's entry"
    # Grown again past the checkpoint's seq, the entry at seq 3 is another one now.
    later = (
        "2027-02-03T08:00:00.000000Z",
        "remark.added",
        "procedure:ANE-UTR-2027-1",
        "user:9",
        {"number": 1},
        "77" * 32,
    )
    grown = rewritten_without(build([*EXAMPLE, later]), dropped_seq=2)
    report = checkpoints.verify(public_lines(grown), example_checkpoint(), RFC_KEYS)
    assert report.failure is not None and report.failure.name == checkpoints.CONTAINS
    assert report.failure.problem == (
        "the checkpoint's entry has another hash: the chain was rewritten"
    )
    assert "FAILED: the checkpoint's entry in the chain" in report.describe()


def test_a_chain_that_grew_after_the_checkpoint_still_contains_it() -> None:
    later = (
        "2027-02-03T08:00:00.000000Z",
        "remark.added",
        "procedure:ANE-UTR-2027-1",
        "user:9",
        {"number": 1},
        "77" * 32,
    )
    report = checkpoints.verify(
        public_lines(build([*EXAMPLE, later])), example_checkpoint(), RFC_KEYS
    )
    assert report.ok and report.chain.entries == 4


def test_a_changed_checkpoint_fails_its_signature() -> None:
    forged = example_checkpoint() | {"head": build()[1]["hash"], "seq": 2}
    report = checkpoints.verify(lines_of(PUBLIC_EXPORT), forged, RFC_KEYS)
    assert report.failure is not None and report.failure.name == checkpoints.SIGNATURE
    assert report.failure.problem == "the signature does not match the checkpoint"
    # The chain itself is fine, and the (forged) entry matches: only the signature fails.
    assert [step.ok for step in report.steps] == [False, True, True]


def test_a_checkpoint_from_an_unpublished_key_or_outside_its_time_fails() -> None:
    other_seed = bytes(range(32))
    other = checkpoints.sign(
        other_seed,
        chain="ANE-UTR-2027-1",
        seq=3,
        head=build()[-1]["hash"],
        at="2027-02-02T10:41:28.000000Z",
    )
    problem, _ = checkpoints.check_signature(other, RFC_KEYS)
    assert problem == "the checkpoint is signed with a key the platform does not publish"
    retired = [
        checkpoints.PublishedKey(
            RFC_PUBLIC, since="2026-01-01T00:00:00.000000Z", until="2027-01-31T00:00:00.000000Z"
        )
    ]
    problem, args = checkpoints.check_signature(example_checkpoint(), retired)
    assert problem == "the checkpoint's time is outside the time its key was in use"
    assert args["until"] == "2027-01-31T00:00:00.000000Z"


def test_a_checkpoint_of_another_chain_is_named() -> None:
    other_chain = public_lines(build(chain="ANE-UTR-2027-2"))
    report = checkpoints.verify(other_chain, example_checkpoint(), RFC_KEYS)
    assert report.failure is not None and report.failure.name == checkpoints.CONTAINS
    assert report.failure.problem == "the checkpoint is of another chain"


def test_a_chain_broken_before_the_checkpoint_s_entry_leaves_that_check_unreached() -> None:
    lines = lines_of(PUBLIC_EXPORT)
    del lines[1]
    report = checkpoints.verify(lines, example_checkpoint(), RFC_KEYS)
    assert [step.ok for step in report.steps] == [True, False, None]
    assert report.failure is not None and report.failure.name == checkpoints.CHAIN


# Versions -----------------------------------------------------------------------------------


def v1_chain(count: int, chain: str = "ANE-UTR-2027-1") -> list[dict]:
    entries, prev = [], GENESIS
    for seq in range(1, count + 1):
        entry = chainlib.make_entry(
            chain=chain,
            seq=seq,
            at=f"2026-03-01T09:30:{seq:02d}.123456Z",
            actor="user:4",
            action="remark.added",
            subject=f"remark:{seq}",
            data={"n": seq},
            prev=prev,
        )
        entries.append(entry)
        prev = entry["hash"]
    return entries


def test_a_version_1_chain_verifies_and_takes_checkpoints() -> None:
    entries = v1_chain(3)
    lines = full_lines(entries)
    verdict = verify_lines(lines)
    assert verdict.ok and verdict.v1_entries == 3
    signed = checkpoints.sign(
        RFC_SEED,
        chain="ANE-UTR-2027-1",
        seq=2,
        head=entries[1]["hash"],
        at="2027-02-02T10:41:28.000000Z",
    )
    assert checkpoints.verify(lines, signed, RFC_KEYS).ok


def test_version_2_may_follow_version_1_but_never_the_other_way() -> None:
    old = v1_chain(2)
    new = chainlib.make_entry_v2(
        chain="ANE-UTR-2027-1",
        seq=3,
        at="2027-01-01T00:00:00.000000Z",
        actor="system",
        action="x.y",
        subject="s",
        data={},
        prev=old[-1]["hash"],
    )
    verdict = verify_lines(full_lines([*old, new]))
    assert verdict.ok and verdict.v1_entries == 2 and verdict.full_entries == 1
    back = chainlib.make_entry(
        chain="ANE-UTR-2027-1",
        seq=4,
        at="2027-01-01T00:00:01.000000Z",
        actor="system",
        action="x.y",
        subject="s",
        data={},
        prev=new["hash"],
    )
    verdict = verify_lines(full_lines([*old, new, back]))
    assert verdict.problem == "a version-1 entry follows a version-2 entry"
    assert verdict.failed_seq == 4


def test_every_entry_gets_a_fresh_salt() -> None:
    made = [
        chainlib.make_entry_v2(
            chain="C",
            seq=1,
            at="2027-01-01T00:00:00.000000Z",
            actor="user:1",
            action="sheet.submitted",
            subject="s",
            data={"level": 3},
            prev=GENESIS,
        )
        for _ in range(2)
    ]
    assert made[0]["salt"] != made[1]["salt"]
    assert re.fullmatch(r"[0-9a-f]{64}", made[0]["salt"])
    # Same level, same everything else: the commitments still differ, so no one can tell.
    assert made[0]["commitment"] != made[1]["commitment"]


# Parsing checkpoints and keys ----------------------------------------------------------------


SEQ_PROBLEM = "the checkpoint's seq is not a positive whole number"
FORM_PROBLEM = "checkpoint fields are not in their form"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "the checkpoint is not valid JSON"),
        ("[]", "the checkpoint is not a JSON object"),
        ('{"version": "selection-audit-checkpoint/v1"}', "the checkpoint lacks fields"),
        (CHECKPOINT.replace("/v1", "/v9"), "the checkpoint has an unknown version"),
        (CHECKPOINT.replace('"seq": 3', '"seq": 0'), SEQ_PROBLEM),
        (CHECKPOINT.replace('"seq": 3', '"seq": true'), SEQ_PROBLEM),
        (CHECKPOINT.replace("2027-02-02T10:41:28", "2027-13-02T10:41:28"), FORM_PROBLEM),
        (CHECKPOINT.replace('"signature": "aa', '"signature": "'), FORM_PROBLEM),
    ],
)
def test_a_checkpoint_not_in_its_form_is_named(text: str, problem: str) -> None:
    with pytest.raises(checkpoints.FormatError) as raised:
        checkpoints.parse_checkpoint(text)
    assert raised.value.problem == problem


def test_the_keys_document_round_trips_and_bad_ones_are_named() -> None:
    document = json.dumps(checkpoints.keys_document(RFC_KEYS))
    parsed = checkpoints.parse_keys(document)
    assert parsed == RFC_KEYS
    assert json.loads(document)["keys"][0]["key"] == example_checkpoint()["key"]
    assert checkpoints.parse_keys(json.dumps(json.loads(document)["keys"])) == RFC_KEYS
    for bad in ("nope", "{}", '{"keys": []}', '{"keys": [{"public_key": "ab"}]}'):
        with pytest.raises(checkpoints.FormatError):
            checkpoints.parse_keys(bad)
