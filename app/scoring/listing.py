"""One page of a long list of applicants: 50 at a time, found by name or reference and
filtered by status, as the lists of a national round (thousands of applicants) are read.
Pure code: the caller hands in every item with its text and status; the counts per status
are over everyone, the page over those that match."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import urlencode

PAGE_SIZE = 50
MAX_SEARCH = 100

T = TypeVar("T")


@dataclass(frozen=True)
class ListQuery:
    """What the reader asked for: `search` in the name or reference, one `status`, the
    `page` (from 1), or `at`, a reference whose page to show (after a form on the list)."""

    search: str = ""
    status: str = ""
    page: int = 1
    at: str = ""

    @classmethod
    def of(cls, params: Mapping[str, str]) -> ListQuery:
        raw = params.get("page", "")
        page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 7 else 1
        return cls(
            search=params.get("q", "").strip()[:MAX_SEARCH],
            status=params.get("status", "").strip()[:40],
            page=max(1, page),
            at=params.get("at", "").strip()[:80],
        )


@dataclass(frozen=True)
class Listing(Generic[T]):
    items: list[T]  # this page's
    total: int  # those matching the search and status
    everyone: int  # before the search and status
    page: int
    pages: int
    query: ListQuery
    counts: dict[str, int]  # status -> how many, over everyone
    size: int = PAGE_SIZE

    @property
    def first(self) -> int:
        """The position (from 1) of this page's first item among the matching."""
        return (self.page - 1) * self.size + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.first + len(self.items) - 1 if self.items else 0

    @property
    def filtered(self) -> bool:
        return bool(self.query.search or self.query.status)

    def link(self, page: int) -> str:
        """The query string of another page of the same search."""
        params = {"q": self.query.search, "status": self.query.status}
        kept = {k: v for k, v in params.items() if v}
        if page > 1:
            kept["page"] = str(page)
        return "?" + urlencode(kept) if kept else "?"


def paginate(
    items: Sequence[T],
    query: ListQuery,
    *,
    text: Callable[[T], str],
    status: Callable[[T], str] | None = None,
    key: Callable[[T], str] | None = None,
    size: int | None = None,
) -> Listing[T]:
    """The page of `items` (in their order) that `query` asks for. `text` is what the
    search looks in (name and reference), `status` what the filter compares, `key` the
    reference `query.at` names; `size` is PAGE_SIZE unless given."""
    size = size or PAGE_SIZE
    statuses = [status(item) for item in items] if status is not None else []
    counts = dict(Counter(statuses))
    needle = query.search.casefold()
    matching = [
        item
        for at, item in enumerate(items)
        if (not needle or needle in text(item).casefold())
        and (not query.status or status is None or statuses[at] == query.status)
    ]
    pages = max(1, math.ceil(len(matching) / size))
    page = min(query.page, pages)
    if query.at and key is not None:
        found = next((n for n, item in enumerate(matching) if key(item) == query.at), None)
        if found is not None:
            page = found // size + 1
    start = (page - 1) * size
    return Listing(
        items=list(matching[start : start + size]),
        total=len(matching),
        everyone=len(items),
        page=page,
        pages=pages,
        query=query,
        counts=counts,
        size=size,
    )
