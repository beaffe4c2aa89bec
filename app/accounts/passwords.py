"""Password hashing: argon2id through the passlib API (the maintained libpass distribution)."""

from __future__ import annotations

from typing import Literal

from passlib.context import CryptContext

Cost = Literal["owasp", "tests"]

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): strong, and light enough for a
# two-core server to answer a login burst at a deadline. "tests" (64 KiB, 1 pass) is for
# the test suite alone, which hashes and checks thousands of passwords: still argon2id,
# checked the same way, a thousandth of the cost (Settings.password_hash_cost).
_COSTS: dict[Cost, tuple[int, int]] = {"owasp": (19_456, 2), "tests": (64, 1)}


def _context_for(cost: Cost) -> CryptContext:
    memory_kib, passes = _COSTS[cost]
    return CryptContext(
        schemes=["argon2"],
        argon2__memory_cost=memory_kib,
        argon2__time_cost=passes,
        argon2__parallelism=1,
        argon2__type="ID",
    )


_cost: Cost = "owasp"
_context = _context_for(_cost)
# Compared against when an account does not exist, so a wrong e-mail costs the same time.
_DUMMY_HASH = _context.hash("not a real password, only for equal timing")

MIN_LENGTH = 10


def use_cost(cost: Cost) -> None:
    """Hash new passwords at `cost` from now on (create_app calls it with the settings')."""
    global _cost, _context, _DUMMY_HASH
    if cost == _cost:
        return
    _cost, _context = cost, _context_for(cost)
    _DUMMY_HASH = _context.hash("not a real password, only for equal timing")


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        _context.verify(password, _DUMMY_HASH)
        return False
    return bool(_context.verify(password, password_hash))


def needs_rehash(password_hash: str) -> bool:
    return bool(_context.needs_update(password_hash))
