"""The score sheet: autosave, stale devices, bad input, submitting, and who sees what when."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session

from app.db import Database
from app.procedures import queries
from app.procedures.models import ProcedureMember
from app.scoring import sheets as scoring_sheets
from tests.app.scoring.conftest import (
    Round,
    autosave,
    chain,
    full_sheet,
    json_version,
    says,
    stored,
    submit,
)


def test_committee_pages_list_the_members_applicants(round_: Round) -> None:
    home = round_.browsers["staff"].get("/committee")
    assert home.status_code == 200 and round_.procedure.reference in home.text
    assert "0 submitted, 0 draft, 2 not started" in home.text
    page = round_.browsers["staff"].get(f"/committee/{round_.procedure.reference}")
    assert page.status_code == 200
    for application in round_.applications:
        assert application.reference in page.text


def test_a_member_autosaves_reloads_and_submits(round_: Round, session: Session) -> None:
    browser = round_.browsers["staff"]
    sheet = browser.get(round_.page())
    assert sheet.status_code == 200
    assert "Insufficient" in sheet.text and 'name="level-motivation"' in sheet.text
    saved = autosave(browser, round_.sheet_url("staff"), {"version": "0", "level-motivation": "4"})
    assert saved.status_code == 200 and json_version(saved.text) == "1"
    assert 'hx-swap-oob="true"' in saved.text and "Saved at" in saved.text
    saved = autosave(
        browser,
        round_.sheet_url("staff"),
        {"version": "1", "reason-motivation": "Vertelde over de eerste nachtdienst."},
    )
    assert json_version(saved.text) == "2"
    # Saving the same again changes nothing: no new version, no new audit entry.
    same = autosave(
        browser,
        round_.sheet_url("staff"),
        {"version": "2", "reason-motivation": "Vertelde over de eerste nachtdienst."},
    )
    assert json_version(same.text) == "2"
    assert len(chain(session, round_.procedure, "sheet.saved")) == 2
    reloaded = browser.get(round_.page())
    assert 'value="4" checked' in reloaded.text
    assert "Vertelde over de eerste nachtdienst." in reloaded.text

    complete = full_sheet(round_.criteria)
    review = browser.post(round_.sheet_url("staff", action="review"), {"version": "2", **complete})
    assert review.status_code == 200 and "Submit the sheet (final)" in review.text
    version = stored(session, round_, "staff")
    assert version is not None and version.status == "draft"
    unconfirmed = browser.post(
        round_.sheet_url("staff", action="submit"), {"version": str(version.version)}
    )
    assert unconfirmed.status_code == 422 and "Confirm that you want to submit" in unconfirmed.text
    done = browser.post(
        round_.sheet_url("staff", action="submit"),
        {"version": str(version.version), "confirm": "yes"},
    )
    assert done.status_code == 303
    final = stored(session, round_, "staff")
    assert final is not None and final.status == "submitted"
    assert final.levels == dict.fromkeys(round_.criteria, 4)
    [entry] = chain(session, round_.procedure, "sheet.submitted")
    assert entry["levels"] == dict.fromkeys(sorted(round_.criteria), 4)
    assert len(entry["reasons_sha256"]) == 64
    assert "You submitted this sheet" in browser.get(round_.page()).text


def test_a_stale_device_is_told_and_shown_the_newer_version(
    round_: Round, session: Session
) -> None:
    tablet, laptop = round_.browsers["staff"], round_.browsers["staff"]
    first = autosave(tablet, round_.sheet_url("staff"), {"version": "0", "level-motivation": "2"})
    assert json_version(first.text) == "1"
    # The laptop still has the page at version 0 and changes another criterion.
    stale = autosave(
        laptop,
        round_.sheet_url("staff"),
        {"version": "0", "level-collaboration": "5", "reason-collaboration": "Mijn notitie"},
    )
    assert stale.status_code == 409
    assert stale.headers["HX-Retarget"] == "#sheet"
    assert "changed on another device" in stale.text
    assert "Your change that was not saved" in stale.text and "Mijn notitie" in stale.text
    assert json_version(stale.text) == "1" and 'value="2" checked' in stale.text
    sheet = stored(session, round_, "staff")
    assert sheet is not None and sheet.levels == {"motivation": 2} and sheet.version == 1
    # Without JavaScript the whole page comes back, also with the lost change.
    page = laptop.post(round_.sheet_url("staff"), {"version": "0", "reason-motivation": "Later"})
    assert page.status_code == 409 and "<html" in page.text and "Later" in page.text


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"level-motivation": "6"}, 422, "must be a whole number from 1 to 5"),
        ({"level-motivation": "0"}, 422, "must be a whole number from 1 to 5"),
        ({"level-motivation": "veel"}, 422, "must be a whole number from 1 to 5"),
        ({"level-charisma": "3"}, 422, "'charisma' is not a criterion of this procedure's matrix"),
        ({"reason-motivation": "x" * 4001}, 422, "at most 4000 characters"),
        ({"version": ""}, 422, "version is missing"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(
    round_: Round, session: Session, data: dict[str, str], status: int, message: str
) -> None:
    browser = round_.browsers["staff"]
    autosave(browser, round_.sheet_url("staff"), {"version": "0", "level-motivation": "3"})
    for htmx in (True, False):
        form = {"version": "1", **data}
        response = (
            autosave(browser, round_.sheet_url("staff"), form)
            if htmx
            else browser.post(round_.sheet_url("staff"), form)
        )
        assert response.status_code == status and says(response, message)
    sheet = stored(session, round_, "staff")
    assert sheet is not None and sheet.levels == {"motivation": 3} and sheet.version == 1


def test_submit_needs_every_score_and_reason(round_: Round, session: Session) -> None:
    browser = round_.browsers["staff"]
    form = full_sheet(round_.criteria)
    form["reason-learnability"] = "Kort."
    del form["level-collaboration"]
    review = browser.post(round_.sheet_url("staff", action="review"), {"version": "0", **form})
    assert review.status_code == 422
    assert "Choose a score for Collaboration" in review.text
    assert "at least 20 characters for Learnability" in review.text
    submit_ = browser.post(
        round_.sheet_url("staff", action="submit"), {"version": "1", "confirm": "yes"}
    )
    assert submit_.status_code == 422
    sheet = stored(session, round_, "staff")
    assert sheet is not None and sheet.status == "draft"


def test_a_submitted_sheet_is_final(round_: Round, session: Session) -> None:
    submit(round_, "staff", level=4)
    before = stored(session, round_, "staff")
    assert before is not None
    browser = round_.browsers["staff"]
    for url in (round_.sheet_url("staff"), round_.sheet_url("staff", action="review")):
        response = browser.post(url, {"version": str(before.version), "level-motivation": "1"})
        assert response.status_code == 409 and "a submitted sheet is final" in response.text
    again = browser.post(
        round_.sheet_url("staff", action="submit"),
        {"version": str(before.version), "confirm": "yes"},
    )
    assert again.status_code == 409
    after = stored(session, round_, "staff")
    assert after is not None and after.levels == before.levels and after.version == before.version


def test_nobody_saves_on_someone_elses_sheet(round_: Round, session: Session) -> None:
    autosave(
        round_.browsers["aios"], round_.sheet_url("aios"), {"version": "0", "level-motivation": "5"}
    )
    for action in ("", "review", "submit"):
        response = round_.browsers["staff"].post(
            round_.sheet_url("aios", action=action),
            {"version": "1", "level-motivation": "1", "confirm": "yes"},
        )
        assert response.status_code == 403
        assert "belongs to another committee member" in response.text
    for role in ("observer", "admin"):
        response = round_.browsers[role].post(round_.sheet_url("aios"), {"version": "1"})
        assert response.status_code == 403
    sheet = stored(session, round_, "aios")
    assert sheet is not None and sheet.levels == {"motivation": 5} and sheet.version == 1


def test_scores_stay_hidden_until_ones_own_sheet_is_in(round_: Round) -> None:
    secret = "GEHEIM-van-het-aios"
    autosave(
        round_.browsers["aios"],
        round_.sheet_url("aios"),
        {"version": "0", **full_sheet(round_.criteria, 2, secret)},
    )
    submit(round_, "staff", level=4, marker="STAF-REDEN")
    staff = round_.browsers["staff"]
    pages = [
        round_.page(),
        round_.page(what="deliberation"),
        f"/committee/{round_.procedure.reference}",
        f"/committee/{round_.procedure.reference}/round",
        "/committee",
    ]
    for url in pages:
        response = staff.get(url)
        assert secret not in response.text, url
    assert staff.get(round_.page(what="deliberation")).status_code == 403
    # The aios has not submitted: the staff member's reasons are not shown to them either.
    for url in pages:
        assert "STAF-REDEN" not in round_.browsers["aios"].get(url).text, url

    submit_version = json_version(round_.browsers["aios"].get(round_.page()).text)
    response = round_.browsers["aios"].post(
        round_.sheet_url("aios", action="submit"), {"version": submit_version, "confirm": "yes"}
    )
    assert response.status_code == 303
    assert staff.get(round_.page(what="deliberation")).status_code == 403  # the chair's is not in
    submit(round_, "chair", level=3, marker="VOORZITTER")
    deliberation = staff.get(round_.page(what="deliberation"))
    assert deliberation.status_code == 200
    assert secret in deliberation.text and "VOORZITTER" in deliberation.text
    # Levels 2, 3 and 4 on every criterion: two apart, so every criterion is flagged.
    assert deliberation.text.count('class="flagged"') == len(round_.criteria)
    assert "<svg" in deliberation.text and "2–4" in deliberation.text


@pytest.mark.anyio
async def test_an_autosave_does_not_wait_for_the_shared_thread_pool(
    round_: Round, app: FastAPI, session: Session
) -> None:
    """Sheet writes run in a pool of their own: with every thread of the shared pool busy
    (logins hashing passwords, uploads being stored), a member's autosave still goes
    through."""
    browser = round_.browsers["staff"]
    token = browser.token()
    cookies = dict(browser.client.cookies.items())
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    limiter.total_tokens = 1
    release = threading.Event()
    transport = httpx.ASGITransport(app=app)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.to_thread.run_sync, release.wait)  # the whole shared pool
            try:
                await anyio.sleep(0.1)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver", cookies=cookies
                ) as client:
                    with anyio.fail_after(10):
                        response = await client.post(
                            round_.sheet_url("staff"),
                            data={"version": "0", "level-motivation": "3"},
                            headers={"HX-Request": "true", "X-Fragment": "status",
                                     "X-CSRF-Token": token},
                        )  # fmt: skip
            finally:
                release.set()
    finally:
        limiter.total_tokens = tokens
    assert response.status_code == 200, response.text
    assert json_version(response.text) == "1"
    sheet = stored(session, round_, "staff")
    assert sheet is not None and sheet.levels == {"motivation": 3}


def test_two_devices_making_the_first_save_at_once_one_is_told_its_page_is_stale(
    round_: Round, database: Database, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both devices find no sheet yet. SQLite lets one writer in at a time, so the second
    finds the first's sheet; on PostgreSQL both get past that read (the test holds them
    there) and the sheet's unique key stops the second."""
    member = session.get(ProcedureMember, round_.members["staff"])
    assert member is not None
    target = dict(procedure=round_.procedure, rubric=queries.rubric_of(round_.procedure),
                  application=round_.applications[0], member=member)  # fmt: skip
    if not database.is_sqlite:
        both_looked = threading.Barrier(2, timeout=10)
        append = scoring_sheets.record

        def record_after_both_looked(*args: Any, **kwargs: Any) -> Any:
            both_looked.wait()
            return append(*args, **kwargs)

        monkeypatch.setattr(scoring_sheets, "record", record_after_both_looked)
    outcomes: list[str] = []

    def device(level: str) -> None:
        given = scoring_sheets.SheetInput(levels={"motivation": level}, reasons={}, version="0")
        with database.session(write=True) as device_session:
            try:
                scoring_sheets.save_sheet(device_session, **target, given=given)  # type: ignore[arg-type]
                outcomes.append(f"saved {level}")
            except scoring_sheets.StaleSheet as stale:
                assert stale.sheet.version == 1
                outcomes.append("stale")

    devices = [threading.Thread(target=device, args=(level,)) for level in ("2", "5")]
    for thread in devices:
        thread.start()
    for thread in devices:
        thread.join()
    assert sorted(outcomes)[-1] == "stale" and len(outcomes) == 2, outcomes
    sheet = stored(session, round_, "staff")
    assert sheet is not None and sheet.version == 1
    assert outcomes[0] == f"saved {sheet.levels['motivation']}"
    assert len(chain(session, round_.procedure, "sheet.saved")) == 1


def test_the_language_switch_on_a_refused_review_returns_to_the_sheet(round_: Round) -> None:
    """A page that answers a form sits at the form's POST address; the language link must
    not lead back there with a GET (405), but to the page the form was on."""
    browser = round_.browsers["staff"]
    sheet_page = f"http://testserver{round_.page()}"
    refused = browser.post(
        round_.sheet_url("staff", action="review"), {"version": "0", "level-motivation": "4"},
        headers={"Referer": sheet_page},
    )  # fmt: skip
    assert refused.status_code == 422
    assert f'?next={round_.page()}" lang=' in refused.text
    switched = browser.get(f"/lang/en?next={quote(round_.page(), safe='')}")
    assert switched.status_code == 303 and switched.headers["location"] == round_.page()
    elsewhere = browser.post(
        round_.sheet_url("staff", action="review"), {"version": "1"},
        headers={"Referer": "https://elsewhere.example/committee"},
    )  # fmt: skip
    assert '?next=/" lang=' in elsewhere.text
