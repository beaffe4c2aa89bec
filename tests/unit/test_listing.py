"""The pages of a long list of applicants (app/scoring/listing.py)."""

from __future__ import annotations

from app.scoring.listing import ListQuery, paginate

PEOPLE = [
    (f"REF-{n:04d}", f"Kandidaat {n}", "submitted" if n % 3 else "draft") for n in range(1, 121)
]


def page(query: ListQuery, size: int = 50) -> list[str]:
    found = paginate(
        PEOPLE, query, text=lambda p: f"{p[1]} {p[0]}", status=lambda p: p[2],
        key=lambda p: p[0], size=size,
    )  # fmt: skip
    return [p[0] for p in found.items]


def test_pages_in_order_and_the_last_one_short() -> None:
    first = paginate(PEOPLE, ListQuery(), text=lambda p: p[1], size=50)
    assert [p[0] for p in first.items] == [f"REF-{n:04d}" for n in range(1, 51)]
    assert (first.total, first.everyone, first.pages, first.first, first.last) == (
        120,
        120,
        3,
        1,
        50,
    )
    last = paginate(PEOPLE, ListQuery(page=3), text=lambda p: p[1], size=50)
    assert (len(last.items), last.first, last.last) == (20, 101, 120)


def test_a_page_past_the_end_is_the_last() -> None:
    assert page(ListQuery(page=99)) == page(ListQuery(page=3))


def test_search_by_name_or_reference_ignores_case() -> None:
    assert page(ListQuery(search="kandidaat 12")) == ["REF-0012"] + [
        f"REF-{n:04d}" for n in range(120, 121)
    ]
    assert page(ListQuery(search="ref-0007")) == ["REF-0007"]
    assert page(ListQuery(search="nobody")) == []


def test_status_filter_and_counts_over_everyone() -> None:
    found = paginate(
        PEOPLE, ListQuery(status="draft"), text=lambda p: p[1], status=lambda p: p[2], size=50
    )
    assert found.total == 40 and all(p[2] == "draft" for p in found.items)
    assert found.counts == {"submitted": 80, "draft": 40}
    assert found.filtered


def test_at_shows_the_page_holding_that_reference() -> None:
    assert "REF-0077" in page(ListQuery(at="REF-0077"))
    assert page(ListQuery(at="REF-0077")) == page(ListQuery(page=2))
    assert page(ListQuery(at="unknown", page=3)) == page(ListQuery(page=3))


def test_the_query_is_read_defensively_and_links_keep_it() -> None:
    query = ListQuery.of({"q": "  Jan ", "status": "draft", "page": "x"})
    assert (query.search, query.status, query.page) == ("Jan", "draft", 1)
    assert ListQuery.of({"page": "0"}).page == 1
    assert ListQuery.of({"page": "9" * 20}).page == 1
    found = paginate(PEOPLE, ListQuery(search="Kandidaat", status="submitted"), text=lambda p: p[1],
                     status=lambda p: p[2], size=10)  # fmt: skip
    assert found.link(2) == "?q=Kandidaat&status=submitted&page=2"
    assert found.link(1) == "?q=Kandidaat&status=submitted"
    assert paginate(PEOPLE, ListQuery(), text=lambda p: p[1]).link(1) == "?"
