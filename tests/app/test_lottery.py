"""The lottery through the real routes: ranking, prepare, commit, announce, reveal, draw,
void and redraw, the published records, the verify page and command, and the results."""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from app.__main__ import main as cli
from app.accounts.models import Mail, User
from app.applications.models import Application
from app.audit import service as audit
from app.audit.models import AuditEntry
from app.lottery import draw as drawlib
from app.lottery.models import Draw
from app.procedures.models import Organisation, Procedure
from app.procedures.vocabulary import Phase, RankingRule
from app.scoring import deliberation as scoring_deliberation
from app.scoring import round as scoring_round
from app.scoring.models import JointOutcome
from tests.app.conftest import Browser, Factory

OBSERVER_SECRET = "kleurrijke-tulp-4471-waarnemer"
CHAIR_SECRET = "stille-rivier-9023-voorzitter"


@dataclass
class World:
    procedure: Procedure
    references: list[str]
    browsers: dict[str, Browser]
    applicants: list[User]

    def draw_url(self, number: int = 1, action: str = "") -> str:
        return f"/procedures/{self.procedure.reference}/draws/{number}/{action}"

    def admin_url(self, number: int, action: str) -> str:
        return f"/manage/procedures/{self.procedure.reference}/draws/{number}/{action}"


def says(response: Any, message: str) -> bool:
    return message in html.unescape(response.text)


@pytest.fixture
def world(factory: Factory, session: Session, new_browser: Any) -> World:
    """Five applicants all found suitable, in a procedure with two places."""
    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=5)
    applicants = list(factory.last_applicants)
    people = factory.committee(procedure)
    people["admin"] = factory.user(platform_admin=True)
    round_ = scoring_round.load_round(session, procedure)
    chair = next(m for m in round_.members.values() if m.role == "chair")
    for application in round_.applications:
        scoring_deliberation.record_outcome(
            session, round_=round_, application=application, member=chair,
            levels={c.id: "4" for c in round_.rubric.criteria}, suitable="yes",
            motivation="Op alle criteria goed, met concrete STARR-voorbeelden.",
            reasons={c.id: "Zo besproken en afgesproken." for c in round_.rubric.criteria},
        )  # fmt: skip
    session.rollback()
    browsers = {}
    for role in ("admin", "observer", "chair", "staff"):
        browsers[role] = new_browser()
        browsers[role].login(people[role].email)
    references = sorted(a.reference for a in round_.applications)
    return World(procedure, references, browsers, applicants)


def prepare(world: World) -> Any:
    return world.browsers["admin"].post(
        f"/manage/procedures/{world.procedure.reference}/draws",
        {"candidate": world.references, "places": "2"},
    )


def commit_both(world: World) -> None:
    for role, secret in (("observer", OBSERVER_SECRET), ("chair", CHAIR_SECRET)):
        response = world.browsers[role].post(
            world.draw_url(action="commit"),
            {"commitment": hashlib.sha256(secret.encode()).hexdigest()},
        )
        assert response.status_code == 303, response.text


def chain(session: Session, procedure: Procedure, action: str) -> list[dict[str, Any]]:
    session.rollback()
    rows = session.execute(
        select(AuditEntry)
        .where(AuditEntry.chain == procedure.reference, AuditEntry.action == action)
        .order_by(AuditEntry.seq)
    ).scalars()
    return [json.loads(row.data) for row in rows]


def test_a_draw_from_announcement_to_result(world: World, session: Session) -> None:
    admin = world.browsers["admin"]
    ranking = admin.get(f"/manage/procedures/{world.procedure.reference}/ranking")
    assert ranking.status_code == 200 and says(ranking, "Tied at the last place")
    # Refused: places >= candidates; candidates who are not the tied group.
    too_many = admin.post(
        f"/manage/procedures/{world.procedure.reference}/draws",
        {"candidate": world.references[:2], "places": "2"},
    )
    assert too_many.status_code == 422 and says(too_many, "2 places for 2 candidates")
    not_tied = admin.post(
        f"/manage/procedures/{world.procedure.reference}/draws",
        {"candidate": world.references[:3], "places": "2"},
    )
    assert not_tied.status_code == 422 and says(not_tied, "a draw between others is not allowed")
    assert prepare(world).status_code == 303
    early = admin.post(world.admin_url(1, "announce"), {"beacon": ""})
    assert early.status_code == 409 and says(
        early, "Waiting for the commitment of: observer, chair"
    )
    bad = world.browsers["observer"].post(world.draw_url(action="commit"), {"commitment": "abc"})
    assert bad.status_code == 422 and says(bad, "64 characters")
    member = world.browsers["staff"].post(world.draw_url(action="commit"), {"commitment": "0" * 64})
    assert member.status_code == 403
    commit_both(world)
    too_soon = world.browsers["chair"].post(
        world.draw_url(action="reveal"), {"secret": CHAIR_SECRET}
    )
    assert too_soon.status_code == 409 and says(too_soon, "after the draw is announced")
    assert admin.post(world.admin_url(1, "announce"), {"beacon": ""}).status_code == 303
    [announced] = chain(session, world.procedure, "draw.announced")
    assert announced["record"]["candidates"] == world.references
    assert all(c["secret"] is None for c in announced["record"]["contributors"])
    late_commit = world.browsers["chair"].post(
        world.draw_url(action="commit"), {"commitment": "1" * 64}
    )
    assert late_commit.status_code == 409 and says(late_commit, "commitments are fixed")
    wrong = world.browsers["observer"].post(
        world.draw_url(action="reveal"), {"secret": "een-ander-geheim-dat-niet-klopt"}
    )
    assert wrong.status_code == 422 and says(wrong, "does not match your commitment")
    for role, secret in (("observer", OBSERVER_SECRET), ("chair", CHAIR_SECRET)):
        assert (
            world.browsers[role]
            .post(world.draw_url(action="reveal"), {"secret": secret})
            .status_code
            == 303
        )
    after = world.browsers["chair"].post(world.draw_url(action="reveal"), {"secret": CHAIR_SECRET})
    assert after.status_code == 409 and says(after, "The draw has taken place")

    # The published record: references only, recomputable.
    records = (
        world.browsers["staff"]
        .client.get(f"/api/procedures/{world.procedure.reference}/draws")
        .json()
    )
    [record] = records
    assert record["status"] == "drawn" and len(record["winners"]) == 2
    record.pop("status")
    assert drawlib.verify(record).ok
    for applicant in world.applicants:
        assert applicant.name not in json.dumps(records)
    [drawn] = chain(session, world.procedure, "draw.drawn")
    assert drawn["record"] == record

    verify = Browser(world.browsers["staff"].client.app, world.browsers["staff"].settings)  # type: ignore[arg-type]
    page = verify.post("/lottery/verify", {"record": json.dumps(record)})
    assert page.status_code == 200 and says(page, "every step checks out")
    tampered = dict(record, winners=list(reversed(record["winners"])))
    page = verify.post("/lottery/verify", {"record": json.dumps(tampered)})
    assert page.status_code == 200 and says(page, "does not check out")
    page = verify.post("/lottery/verify", {"record": "{niet json"})
    assert page.status_code == 422 and says(page, "not valid JSON")
    prefilled = verify.get(f"/lottery/verify?draw={record['draw_id']}")
    assert says(prefilled, "every step checks out")

    # Results: published, told by e-mail, read by the applicant with the draw.
    transition = admin.post(
        f"/manage/procedures/{world.procedure.reference}/transition",
        {"action": "publish_results", "confirmed": "1"},
    )
    assert transition.status_code == 303, transition.text
    session.rollback()
    winner = record["winners"][0]
    application = session.execute(
        select(Application).where(Application.reference == winner)
    ).scalar_one()
    user = session.get(User, application.applicant_id)
    assert user is not None
    mails = session.execute(select(Mail).where(Mail.recipient == user.email)).scalars().all()
    assert any("Result" in m.subject for m in mails)
    reader = Browser(world.browsers["staff"].client.app, world.browsers["staff"].settings)  # type: ignore[arg-type]
    reader.login(user.email)
    result = reader.get(f"/applications/{winner}")
    assert says(result, "have a training place") and says(result, "Verify the draw yourself")
    reserve = record["reserve"][0]
    other = session.execute(
        select(Application).where(Application.reference == reserve)
    ).scalar_one()
    other_user = session.get(User, other.applicant_id)
    assert other_user is not None
    reader2 = Browser(world.browsers["staff"].client.app, world.browsers["staff"].settings)  # type: ignore[arg-type]
    reader2.login(other_user.email)
    assert says(reader2.get(f"/applications/{reserve}"), "number 1 on the reserve list")
    public = verify.get(f"/procedures/{world.procedure.reference}")
    assert says(public, "Found suitable") and says(public, "Draw records")

    # A winner declines: the first on the reserve list gets the place, and is told.
    ranking_url = f"/manage/procedures/{world.procedure.reference}/ranking"
    not_placed = admin.post(f"{ranking_url}/{record['reserve'][1]}/decline")
    assert not_placed.status_code == 409 and says(not_placed, "Only a candidate who has a place")
    assert admin.post(f"{ranking_url}/{winner}/decline").status_code == 303
    assert says(reader2.get(f"/applications/{reserve}"), "have a training place")
    assert says(reader.get(f"/applications/{winner}"), "declined it")
    declined = chain(session, world.procedure, "place.declined")
    assert declined == [{"offered_to": reserve}]
    assert session.execute(
        select(Mail).where(Mail.recipient == other_user.email, Mail.subject.contains("place"))
    ).first()


def test_results_wait_for_the_draw(world: World) -> None:
    blocked = world.browsers["admin"].post(
        f"/manage/procedures/{world.procedure.reference}/transition",
        {"action": "publish_results", "confirmed": "1"},
    )
    assert blocked.status_code == 409 and says(blocked, "the draw has to take place first")


def test_a_draw_without_a_reveal_is_void_and_drawn_again(world: World, session: Session) -> None:
    admin = world.browsers["admin"]
    assert prepare(world).status_code == 303
    commit_both(world)
    assert admin.post(world.admin_url(1, "announce"), {"beacon": ""}).status_code == 303
    short = admin.post(world.admin_url(1, "void"), {"reason": "kort"})
    assert short.status_code == 422
    voided = admin.post(world.admin_url(1, "void"), {"reason": "De voorzitter onthulde niet."})
    assert voided.status_code == 303
    late = world.browsers["observer"].post(
        world.draw_url(action="reveal"), {"secret": OBSERVER_SECRET}
    )
    assert late.status_code == 409 and says(late, "This draw is void")
    assert prepare(world).status_code == 303
    session.rollback()
    draws = session.execute(select(Draw).order_by(Draw.id)).scalars().all()
    assert [(d.draw_id.rsplit("/", 1)[1], d.status) for d in draws] == [
        ("draw-1", "void"),
        ("draw-2", "preparing"),
    ]
    records = admin.client.get(f"/api/procedures/{world.procedure.reference}/draws").json()
    assert [r["status"] for r in records] == ["void"]  # a draw being prepared is not public yet


def test_verify_lottery_command(world: World, tmp_path: Path, capsys: Any) -> None:
    prepare(world)
    commit_both(world)
    world.browsers["admin"].post(world.admin_url(1, "announce"), {"beacon": ""})
    for role, secret in (("observer", OBSERVER_SECRET), ("chair", CHAIR_SECRET)):
        world.browsers[role].post(world.draw_url(action="reveal"), {"secret": secret})
    [record] = (
        world.browsers["admin"]
        .client.get(f"/api/procedures/{world.procedure.reference}/draws")
        .json()
    )
    record.pop("status")
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(record))
    assert cli(["verify-lottery", str(path)]) == 0
    assert "The draw is correct." in capsys.readouterr().out
    record["seed"] = "0" * 64
    path.write_text(json.dumps(record))
    assert cli(["verify-lottery", str(path)]) == 1
    assert "FAIL seed" in capsys.readouterr().out
    path.write_text("geen json")
    assert cli(["verify-lottery", str(path)]) == 2


def draw_through(world: World, beacon: str = "") -> None:
    prepare(world)
    commit_both(world)
    world.browsers["admin"].post(world.admin_url(1, "announce"), {"beacon": beacon})
    for role, secret in (("observer", OBSERVER_SECRET), ("chair", CHAIR_SECRET)):
        world.browsers[role].post(world.draw_url(action="reveal"), {"secret": secret})


def test_a_named_beacon_is_waited_for_and_counts(
    world: World, session: Session, factory: Factory, new_browser: Any
) -> None:
    draw_through(world, beacon="Euromillions, trekking van 1 december 2026")
    records = (
        world.browsers["admin"]
        .client.get(f"/api/procedures/{world.procedure.reference}/draws")
        .json()
    )
    assert records[0]["status"] == "announced"  # both revealed; the beacon value is missing
    assert records[0]["beacon"] == {"name": "Euromillions, trekking van 1 december 2026",
                                    "value": None}  # fmt: skip
    entered = world.browsers["admin"].post(world.admin_url(1, "beacon"), {"value": "7 12 19 33 41"})
    assert entered.status_code == 303
    # One person alone does not decide it: the same admin again is refused, a second admin
    # with another value resets both, and the same value from both counts.
    again = world.browsers["admin"].post(world.admin_url(1, "beacon"), {"value": "7 12 19 33 41"})
    assert again.status_code == 409 and says(again, "a second person enters it too")
    second = new_browser()
    organisation = session.get(Organisation, world.procedure.organisation_id)
    second.login(factory.org_admin(organisation).email)
    differs = second.post(world.admin_url(1, "beacon"), {"value": "7 12 19 33 40"})
    assert differs.status_code == 422 and says(differs, "The two values differ")
    world.browsers["admin"].post(world.admin_url(1, "beacon"), {"value": "7 12 19 33 41"})
    assert second.post(world.admin_url(1, "beacon"), {"value": "7 12 19 33 41"}).status_code == 303
    [entered_by] = [e for e in chain(session, world.procedure, "draw.beacon")]
    assert entered_by["how"] == "entered by two people" and len(set(entered_by["entered_by"])) == 2
    [record] = (
        world.browsers["admin"]
        .client.get(f"/api/procedures/{world.procedure.reference}/draws")
        .json()
    )
    assert record["status"] == "drawn" and record["beacon"]["value"] == "7 12 19 33 41"
    record.pop("status")
    assert drawlib.verify(record).ok
    record["beacon"]["value"] = "7 12 19 33 42"
    assert not drawlib.verify(record).ok


def test_outcomes_by_group_show_only_groups_of_five(
    world: World, session: Session, factory: Factory
) -> None:
    from app.applications.models import DiversityResponse

    session.rollback()
    applications = (
        session.execute(select(Application).where(Application.procedure_id == world.procedure.id))
        .scalars()
        .all()
    )
    for application in applications:
        session.add(
            DiversityResponse(
                procedure_id=world.procedure.id,
                application_id=application.id,
                gender="woman",
                first_generation="yes" if application.reference.endswith("1") else "no",
            )
        )
    session.commit()
    draw_through(world)
    world.browsers["admin"].post(
        f"/manage/procedures/{world.procedure.reference}/transition",
        {"action": "publish_results", "confirmed": "1"},
    )
    page = world.browsers["staff"].get(f"/procedures/{world.procedure.reference}")
    assert says(page, "Outcomes by group")
    text = html.unescape(page.text)
    assert '<th scope="row">Woman</th><td>5</td><td>5</td><td>5</td><td>2</td>' in text
    # First in the family: 1 yes and 4 no, both under five: not shown.
    assert "First in the family to study</caption>" not in text


def deliberate(world: World, session: Session, reference: str, *, suitable: bool) -> Any:
    """The chair records the joint outcome again, through the deliberation form."""
    session.rollback()
    criteria = scoring_round.load_round(session, world.procedure).rubric.criteria
    level = "4" if suitable else "1"
    return world.browsers["chair"].post(
        f"/committee/{world.procedure.reference}/applicants/{reference}/deliberation",
        {
            **{f"level-{c.id}": level for c in criteria},
            **{
                f"reason-{c.id}": "Bij nader inzien anders beoordeeld, zie de STARR-antwoorden."
                for c in criteria
            },
            "suitable": "yes" if suitable else "no",
            "motivation": "Bij nader inzien anders beoordeeld, met redenen per criterium.",
        },
    )


def outcome_of(session: Session, reference: str) -> bool:
    session.rollback()
    application = session.execute(
        select(Application).where(Application.reference == reference)
    ).scalar_one()
    outcome = session.execute(
        select(JointOutcome).where(JointOutcome.application_id == application.id)
    ).scalar_one()
    return outcome.suitable


def test_an_announced_draw_fixes_every_outcome_until_it_is_voided(
    world: World, session: Session
) -> None:
    """Before: after the draw the chair re-recorded a winner as not suitable; the ranking
    listed them as not suitable and placed, and the results could be published."""
    prepare(world)
    commit_both(world)
    admin = world.browsers["admin"]
    assert admin.post(world.admin_url(1, "announce"), {"beacon": ""}).status_code == 303
    announced = deliberate(world, session, world.references[0], suitable=False)
    assert announced.status_code == 409
    assert says(announced, f"Draw {world.procedure.reference}/draw-1 has been announced")
    for role, secret in (("observer", OBSERVER_SECRET), ("chair", CHAIR_SECRET)):
        world.browsers[role].post(world.draw_url(action="reveal"), {"secret": secret})
    session.rollback()
    winner = session.execute(select(Draw)).scalar_one().winners[0]
    refused = deliberate(world, session, winner, suitable=False)
    assert refused.status_code == 409
    assert says(refused, "the outcomes and pluses of everyone in the ranking are fixed")
    assert says(refused, "voids the draw with a public reason")
    assert outcome_of(session, winner) is True
    assert "outcome.revised" not in [
        e["action"] for e in audit.entries(session, world.procedure.reference)
    ]
    ranking = admin.get(f"/manage/procedures/{world.procedure.reference}/ranking")
    assert says(ranking, "the outcomes and pluses of everyone in the ranking are fixed")
    # The number of places is fixed with the draw as well.
    session.rollback()
    current = session.execute(select(Procedure)).scalar_one()
    places = admin.post(f"/manage/procedures/{current.reference}/basics", {
        "title": current.title, "specialty": current.specialty, "region": current.region,
        "description": current.description, "places": "3", "method": current.method,
        "quorum": str(current.quorum), "ranking_rule": current.ranking_rule,
        "retention_weeks": str(current.retention_weeks), "justification": "Een plaats erbij.",
    })  # fmt: skip
    assert places.status_code == 409 and says(places, "the number of places is fixed with it")

    # Void it, with a reason that stays public; then deliberate again and draw again.
    reason = "De uitkomst van een kandidaat moet worden gecorrigeerd."
    short = admin.post(world.admin_url(1, "void"), {"reason": "fout"})
    assert short.status_code == 422
    assert admin.post(world.admin_url(1, "void"), {"reason": reason}).status_code == 303
    public = Browser(admin.client.app, admin.settings)  # type: ignore[arg-type]
    page = public.get(f"/procedures/{world.procedure.reference}/draws")
    assert says(page, reason) and says(page, "Voided on")
    [record] = public.client.get(f"/api/procedures/{world.procedure.reference}/draws").json()
    assert record["status"] == "void" and record["void_reason"] == reason
    assert record["winners"] and record["seed"]  # the outcome it had stays on the record
    verified = public.get(f"/lottery/verify?draw={record['draw_id']}")
    assert says(verified, "every step checks out")
    report = world.browsers["observer"].get(f"/procedures/{world.procedure.reference}/report")
    assert report.status_code == 200 and says(report, reason)
    [voided] = chain(session, world.procedure, "draw.void")
    assert voided == {"reason": reason, "was": "drawn"}
    again = admin.post(world.admin_url(1, "void"), {"reason": reason})
    assert again.status_code == 409 and says(again, "void already")

    assert deliberate(world, session, winner, suitable=False).status_code == 303
    assert outcome_of(session, winner) is False
    remaining = [r for r in world.references if r != winner]
    assert prepare(world).status_code == 422  # the old group is no longer the tied group
    second = admin.post(
        f"/manage/procedures/{world.procedure.reference}/draws",
        {"candidate": remaining, "places": "2"},
    )
    assert second.status_code == 303
    session.rollback()
    draws = session.execute(select(Draw).order_by(Draw.id)).scalars().all()
    assert [(d.status, d.candidates) for d in draws] == [
        ("void", world.references),
        ("preparing", remaining),
    ]


def test_publishing_results_checks_the_draw_still_matches_its_tied_group(
    world: World, session: Session
) -> None:
    """Before: a draw whose group no longer was the tied group still placed its winners."""
    draw_through(world)
    session.rollback()
    drawn = session.execute(select(Draw)).scalar_one()
    winner = drawn.winners[0]
    # An outcome changed behind the rules' back (as the old deliberation allowed).
    application = session.execute(
        select(Application).where(Application.reference == winner)
    ).scalar_one()
    outcome = session.execute(
        select(JointOutcome).where(JointOutcome.application_id == application.id)
    ).scalar_one()
    outcome.suitable = False
    session.commit()
    admin = world.browsers["admin"]
    blocked = admin.post(
        f"/manage/procedures/{world.procedure.reference}/transition",
        {"action": "publish_results", "confirmed": "1"},
    )
    assert blocked.status_code == 409
    remaining = ", ".join(r for r in world.references if r != winner)
    assert says(blocked, f"Draw {drawn.draw_id} was held between {', '.join(world.references)}")
    assert says(blocked, f"the candidates tied at the last place are now {remaining}")
    session.rollback()
    assert session.execute(select(Procedure)).scalar_one().phase == Phase.DELIBERATION
    ranking = admin.get(f"/manage/procedures/{world.procedure.reference}/ranking")
    assert says(ranking, f"Draw {drawn.draw_id} was held between") and not says(
        ranking, "Final order"
    )


def test_an_outcome_may_change_while_a_draw_is_prepared_but_then_it_is_not_announced(
    world: World, session: Session
) -> None:
    prepare(world)
    commit_both(world)
    assert deliberate(world, session, world.references[0], suitable=False).status_code == 303
    refused = world.browsers["admin"].post(world.admin_url(1, "announce"), {"beacon": ""})
    assert refused.status_code == 409 and says(refused, "The ranking changed since this draw")


def test_a_draw_stands_once_the_results_are_published(world: World, session: Session) -> None:
    draw_through(world)
    admin = world.browsers["admin"]
    published = admin.post(
        f"/manage/procedures/{world.procedure.reference}/transition",
        {"action": "publish_results", "confirmed": "1"},
    )
    assert published.status_code == 303
    late = admin.post(world.admin_url(1, "void"), {"reason": "Toch maar opnieuw loten."})
    assert late.status_code == 409 and says(late, "the draw stands")


def test_publishing_the_results_asks_for_a_confirmation_with_the_mail_first(
    world: World, session: Session
) -> None:
    admin = world.browsers["admin"]
    reference = world.procedure.reference
    draw_through(world)
    mails_before = len(session.execute(select(Mail)).scalars().all())
    # The plain POST of the editor's button no longer acts: it leads to the confirmation.
    first = admin.post(f"/manage/procedures/{reference}/transition", {"action": "publish_results"})
    confirm_url = f"/manage/procedures/{reference}/publish-results"
    assert first.status_code == 303 and first.headers["location"] == confirm_url
    session.rollback()
    assert session.get(Procedure, world.procedure.id).phase == Phase.DELIBERATION  # type: ignore[union-attr]
    assert len(session.execute(select(Mail)).scalars().all()) == mails_before
    page = admin.get(confirm_url)
    assert page.status_code == 200
    assert says(page, "5 people are e-mailed.") and says(page, "This cannot be undone.")
    # The preview is the mail as it is sent to the first recipient.
    first_reference = sorted(world.references)[0]
    assert says(page, f"Result: {world.procedure.title}") and says(page, first_reference)
    assert 'name="action" value="publish_results"' in page.text
    assert 'name="confirmed" value="1"' in page.text
    done = admin.post(
        f"/manage/procedures/{reference}/transition",
        {"action": "publish_results", "confirmed": "1"},
    )
    assert done.status_code == 303
    session.rollback()
    sent = session.execute(select(Mail).where(Mail.subject.startswith("Result:"))).scalars().all()
    assert len(sent) == 5
    told = admin.get(done.headers["location"].split("#")[0])
    assert says(told, "The results are published; 5 applicants were e-mailed.")
    assert 'role="status" data-close="Close"><p class="alert alert-ok">' in told.text
    # Published: the confirmation step says why it cannot be taken again.
    assert admin.get(confirm_url).status_code == 409


def test_after_the_draw_the_ranking_names_everyone_placed(world: World) -> None:
    admin = world.browsers["admin"]
    ranking_url = f"/manage/procedures/{world.procedure.reference}/ranking"
    before = html.unescape(admin.get(ranking_url).text)
    assert '<dt>Certain of a place</dt><dd id="placed">—</dd>' in before
    draw_through(world)
    after = html.unescape(admin.get(ranking_url).text)
    [record] = admin.client.get(f"/api/procedures/{world.procedure.reference}/draws").json()
    winners = ", ".join(record["winners"])
    assert f'<dt>Placed</dt><dd id="placed">{winners}</dd>' in after
    assert "Certain of a place" not in after
    assert f"decided by draw {record['draw_id']}, which placed {winners}" in after


def test_the_public_count_of_applicants_leaves_out_who_withdrew(
    world: World, session: Session, factory: Factory
) -> None:
    draw_through(world)
    world.browsers["admin"].post(
        f"/manage/procedures/{world.procedure.reference}/transition",
        {"action": "publish_results", "confirmed": "1"},
    )
    quitter = factory.user("Teruggetrokken")
    session.add(
        Application(
            procedure_id=world.procedure.id,  # type: ignore[arg-type]
            applicant_id=quitter.id,  # type: ignore[arg-type]
            reference=f"{world.procedure.reference}-0099",
            status="withdrawn",
        )
    )
    session.commit()
    page = html.unescape(
        world.browsers["staff"].get(f"/procedures/{world.procedure.reference}").text
    )
    assert "<dt>Applicants</dt><dd>5</dd>" in page


def test_the_ranking_weighs_the_criteria_as_the_rubric_says(
    factory: Factory, session: Session
) -> None:
    """A rubric that weighs its first criterion three times, ranked by score: the candidate
    strong there is placed, though the other has more points unweighted; from the outcomes
    alone (the ranking and the draw) as from the whole round (the results pages)."""
    from app.lottery import draws

    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=2)
    content = json.loads(json.dumps(procedure.rubric_content))
    content["criteria"][0]["weight"] = 3
    procedure.rubric_content = content
    procedure.rubric_hash = hashlib.sha256(json.dumps(content).encode()).hexdigest()
    procedure.places = 1
    procedure.ranking_rule = RankingRule.SCORE_THEN_LOTTERY
    session.commit()
    round_ = scoring_round.load_round(session, procedure)
    chair = next(m for m in round_.members.values() if m.role == "chair")
    first, *others = [c.id for c in round_.rubric.criteria]
    strong, broad = round_.applications
    for application, top, rest in ((strong, "5", "3"), (broad, "3", "4")):
        scoring_deliberation.record_outcome(
            session, round_=round_, application=application, member=chair,
            levels={first: top, **{c: rest for c in others}}, suitable="yes",
            motivation="Zo besproken en afgesproken, met redenen per criterium.",
            reasons={c.id: "Zo besproken en afgesproken." for c in round_.rubric.criteria},
        )  # fmt: skip
    session.commit()
    unweighted = {strong.reference: 5 + 3 * len(others), broad.reference: 3 + 4 * len(others)}
    assert unweighted[broad.reference] > unweighted[strong.reference]
    expected = {strong.reference: 15 + 3 * len(others), broad.reference: 9 + 4 * len(others)}
    alone = {c.reference: c.total for c in draws.candidates(session, procedure)}
    whole = scoring_round.load_round(session, procedure)
    assert (
        alone
        == expected
        == {c.reference: c.total for c in draws.candidates(session, procedure, whole)}
    )
    ranked = draws.rank(session, procedure)
    assert (ranked.placed, ranked.below) == ([strong.reference], [[broad.reference]])
