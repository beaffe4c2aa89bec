"""Conflicts of interest and reserves: declared by either side, they take the member out of
the applicant's scoring; a reserve restores the quorum."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.applications.models import Document
from app.procedures.models import ProcedureMember
from app.procedures.vocabulary import Phase
from app.scoring import sheets as scoring_sheets
from tests.app.conftest import Factory
from tests.app.scoring.conftest import Round, autosave, chain, stored, submit


def test_a_conflicted_member_sees_nothing_of_the_applicant(round_: Round, session: Session) -> None:
    aios = round_.browsers["aios"]
    autosave(aios, round_.sheet_url("aios"), {"version": "0", "level-motivation": "5"})
    declared = aios.post(
        round_.page(what="conflict"), {"relation": "friend", "note": "Studiegenoot"}
    )
    assert declared.status_code == 303
    session.rollback()
    documents = list(
        session.execute(
            select(Document.id).where(Document.application_id == round_.applications[0].id)
        ).scalars()
    )
    reference = round_.applications[0].reference
    hidden = [
        ("GET", round_.page()),
        ("GET", round_.page(what="conflict")),
        ("GET", round_.page(what="deliberation")),
        ("POST", round_.page(what="conflict")),
        ("POST", round_.page(what="deliberation")),
        ("POST", round_.sheet_url("aios")),
        ("POST", round_.sheet_url("aios", action="review")),
        ("POST", round_.sheet_url("aios", action="submit")),
        *(("GET", f"/applications/{reference}/documents/{d}") for d in documents),
    ]
    for method, url in hidden:
        response = aios.get(url) if method == "GET" else aios.post(url, {"version": "1"})
        assert response.status_code == 404, (method, url, response.status_code)
    # The tab still open on the sheet keeps autosaving: a clear 404 fragment, never a 500.
    late = autosave(aios, round_.sheet_url("aios"), {"version": "1", "level-motivation": "2"})
    assert late.status_code == 404 and "alert" in late.text
    listing = aios.get(f"/committee/{round_.procedure.reference}")
    assert reference not in listing.text and round_.applications[1].reference in listing.text
    # The sheet started before no longer counts, and the effect is in the chain.
    sheet = stored(session, round_, "aios")
    assert sheet is not None and sheet.status == "void"
    [entry] = chain(session, round_.procedure, "conflict.declared")
    assert entry["relation"] == "friend" and entry["declared_by"] == "member"
    assert entry["sheet_voided"] is True and entry["quorum_met"] is False
    # Another member still scores this applicant; the documents are theirs to read.
    for document in documents:
        download = round_.browsers["staff"].get(f"/applications/{reference}/documents/{document}")
        assert download.status_code == 200


def test_quorum_failure_is_shown_and_a_reserve_restores_it(
    round_: Round, session: Session, factory: Factory
) -> None:
    round_.browsers["aios"].post(round_.page(what="conflict"), {"relation": "family"})
    admin = round_.browsers["admin"]
    overview = admin.get(f"/manage/procedures/{round_.procedure.reference}/scoring")
    assert overview.status_code == 200 and "Quorum not met (2/3)" in overview.text
    for role in ("chair", "staff"):
        submit(round_, role)
        submit(round_, role, number=1)
    submit(round_, "aios", number=1)
    transition = admin.post(
        f"/manage/procedures/{round_.procedure.reference}/transition",
        {"action": "start_deliberation"},
    )
    assert transition.status_code == 409
    assert "fewer scorers without a conflict of interest than the quorum" in transition.text
    invited = admin.post(
        f"/manage/procedures/{round_.procedure.reference}/invitations",
        {"name": "Reserve Lid", "email": "reserve@example.org", "role": "member",
         "function": "staff", "training_done": "true", "reserve": "true",
         "justification": "Het quorum ontbreekt door een conflict."},
    )  # fmt: skip
    assert invited.status_code == 303, invited.text
    session.rollback()
    reserve = session.execute(
        select(ProcedureMember).where(
            ProcedureMember.procedure_id == round_.procedure.id, ProcedureMember.reserve
        )
    ).scalar_one()
    assigned = admin.post(
        f"/manage/procedures/{round_.procedure.reference}/scoring/{round_.applications[0].reference}/reserve",
        {"member": str(reserve.id)},
    )
    assert assigned.status_code == 303
    again = admin.post(
        f"/manage/procedures/{round_.procedure.reference}/scoring/{round_.applications[0].reference}/reserve",
        {"member": str(reserve.id)},
    )
    assert again.status_code == 409 and "already scores this applicant" in again.text
    overview = admin.get(f"/manage/procedures/{round_.procedure.reference}/scoring")
    assert "Quorum met (3/3)" in overview.text
    [entry] = chain(session, round_.procedure, "reserve.assigned")
    assert entry["quorum_met"] is True
    # The reserve scores only the applicant they were assigned to; the standing an autosave
    # checks (one query) says so too.
    first, second = (a.reference for a in round_.applications[:2])
    target = scoring_sheets.sheet_target(
        session, round_.procedure.reference, first, reserve.user_id
    )
    assert target.member == reserve and target.standing.scorer
    other = scoring_sheets.sheet_target(
        session, round_.procedure.reference, second, reserve.user_id
    )
    assert not other.standing.scorer and not other.standing.conflicted
    aios = session.get(ProcedureMember, round_.members["aios"])
    assert aios is not None
    conflicted = scoring_sheets.sheet_target(
        session, round_.procedure.reference, first, aios.user_id
    )
    assert conflicted.standing.conflicted and not conflicted.standing.scorer
    blocked = admin.post(
        f"/manage/procedures/{round_.procedure.reference}/transition",
        {"action": "start_deliberation"},
    )
    assert blocked.status_code == 409 and "Not every score sheet is in" in blocked.text


def test_an_applicants_own_declaration_is_a_conflict(factory: Factory, new_browser: Any) -> None:
    procedure = factory.procedure(phase=Phase.LETTER_ROUND, applicants=2, ties={1: "chair"})
    people = factory.committee(procedure)
    chair = new_browser()
    chair.login(people["chair"].email)
    listing = chair.get(f"/committee/{procedure.reference}")
    # The letter-round result is not yet published in this phase: nobody is listed yet.
    assert f"{procedure.reference}-0001" not in listing.text


def test_applicant_declarations_take_effect_with_the_letter_round(
    factory: Factory, new_browser: Any, session: Session
) -> None:
    procedure = factory.procedure(
        phase=Phase.INTERVIEWS, applicants=2, ties={1: "chair"}, extra_members=1
    )
    people = factory.committee(procedure)
    chair = new_browser()
    chair.login(people["chair"].email)
    listing = chair.get(f"/committee/{procedure.reference}")
    assert f"{procedure.reference}-0001" not in listing.text
    assert f"{procedure.reference}-0002" in listing.text
    page = chair.get(f"/committee/{procedure.reference}/applicants/{procedure.reference}-0001")
    assert page.status_code == 404
    [entry] = chain(session, procedure, "conflict.declared")
    assert entry["declared_by"] == "applicant" and entry["member"] == f"user:{people['chair'].id}"
