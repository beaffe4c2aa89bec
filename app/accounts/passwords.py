"""Password hashing: argon2id through the passlib API (the maintained libpass distribution)."""

from __future__ import annotations

from passlib.context import CryptContext

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): strong, and light enough for a
# two-core server to answer a login burst at a deadline.
_context = CryptContext(
    schemes=["argon2"],
    argon2__memory_cost=19_456,
    argon2__time_cost=2,
    argon2__parallelism=1,
    argon2__type="ID",
)
# Compared against when an account does not exist, so a wrong e-mail costs the same time.
_DUMMY_HASH = _context.hash("not a real password, only for equal timing")

MIN_LENGTH = 10


def hash_password(password: str) -> str:
    return _context.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    if not password_hash:
        _context.verify(password, _DUMMY_HASH)
        return False
    return bool(_context.verify(password, password_hash))


def needs_rehash(password_hash: str) -> bool:
    return bool(_context.needs_update(password_hash))
