"""The joint outcome and the life cycle's wait for every sheet and outcome."""

from __future__ import annotations

from sqlmodel import Session, select

from app.scoring.models import JointOutcome
from tests.app.scoring.conftest import Round, chain, says, submit


def test_the_chair_records_the_joint_outcome(round_: Round, session: Session) -> None:
    submit(round_, "chair", level=4)
    submit(round_, "staff", level=3)
    submit(round_, "aios", level=2)
    url = round_.page(what="deliberation")
    chair = round_.browsers["chair"]
    page = chair.get(url)
    assert page.status_code == 200 and "Record the joint outcome" in page.text
    outcome = {f"level-{c}": "3" for c in round_.criteria}
    outcome |= {
        f"reason-{c}": f"Voldoende op {c}, met een eigen voorbeeld." for c in round_.criteria
    }
    motivation = "Op elk criterium voldoende; sterk in samenwerking, reflectie kan dieper."
    wrong = chair.post(url, {**outcome, "suitable": "no", "motivation": motivation})
    assert wrong.status_code == 422 and "With these scores the applicant is suitable" in wrong.text
    short = chair.post(url, {**outcome, "suitable": "yes", "motivation": "Prima."})
    assert short.status_code == 422 and "at least 20 characters" in short.text
    missing = chair.post(url, {"suitable": "yes", "motivation": motivation})
    assert missing.status_code == 422 and says(missing, "Choose the committee's score")
    member = round_.browsers["staff"].post(
        url, {**outcome, "suitable": "yes", "motivation": motivation}
    )
    assert member.status_code == 403
    observer = round_.browsers["observer"].post(
        url, {**outcome, "suitable": "yes", "motivation": motivation}
    )
    assert observer.status_code == 403
    session.rollback()
    assert session.execute(select(JointOutcome)).first() is None
    recorded = chair.post(url, {**outcome, "suitable": "yes", "motivation": motivation})
    assert recorded.status_code == 303
    session.rollback()
    joint = session.execute(select(JointOutcome)).scalar_one()
    assert joint.suitable and joint.levels == dict.fromkeys(round_.criteria, 3)
    [entry] = chain(session, round_.procedure, "outcome.recorded")
    assert entry["suitable"] is True and "motivation_sha256" in entry
    # Members, the observer and the admin read it; the round's figures are there too.
    for role in ("staff", "observer", "admin"):
        shown = round_.browsers[role].get(url)
        assert shown.status_code == 200 and motivation in shown.text
    figures = round_.browsers["admin"].get(f"/committee/{round_.procedure.reference}/round")
    assert figures.status_code == 200 and "Krippendorff" in figures.text


def test_the_life_cycle_waits_for_sheets_and_outcomes(round_: Round, session: Session) -> None:
    admin = round_.browsers["admin"]
    transition = f"/manage/procedures/{round_.procedure.reference}/transition"
    blocked = admin.post(transition, {"action": "start_deliberation"})
    assert (
        blocked.status_code == 409
        and "Not every score sheet is in for these applicants" in blocked.text
    )
    for number in (0, 1):
        for role in ("chair", "staff", "aios"):
            submit(round_, role, number=number)
    assert admin.post(transition, {"action": "start_deliberation"}).status_code == 303
    # Scoring is over: a sheet can no longer change.
    late = round_.browsers["staff"].post(round_.sheet_url("staff"), {"version": "9"})
    assert late.status_code == 409
    blocked = admin.post(transition, {"action": "publish_results"})
    assert (
        blocked.status_code == 409
        and "joint outcome is not yet recorded for these applicants" in blocked.text
    )
