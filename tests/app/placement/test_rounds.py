"""A cluster's placement through the real routes (issue 15): the lists fixed at the deadline,
the ordering draw with the observer and the chair, round 1 published and mailed, an offer
declined, round 2 moving the freed place down the order, the close, the statement for the
candidate left without a place, and the public records that anyone can recompute."""

from __future__ import annotations

import hashlib
import html
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session, col, select

from app import demo
from app.accounts.models import Mail, User
from app.applications.models import Application
from app.audit.models import AuditEntry
from app.conduct import transition
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict
from app.lottery import draws as lottery_draws
from app.placement import match, preferences, priority, rounds
from app.placement import verify as verifylib
from app.placement.models import PlacementOffer
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from app.scoring import deliberation as scoring_deliberation
from app.scoring import round as scoring_round
from tests.app.conftest import Browser, Factory

CLUSTER = (
    ("UMCU", "UMC Utrecht", "Utrecht", 2),
    ("MMA", "Meander Medisch Centrum", "Amersfoort", 1),
    ("RST", "Rijnstate", "Arnhem", 1),
    ("GV", "Ziekenhuis Gelderse Vallei", "Ede", 1),
)
# The lists of the spec's worked example, by the candidates' position in reference order.
LISTS = (
    ["UMCU", "MMA", "GV"],
    ["UMCU"],
    ["MMA", "UMCU", "RST"],
    ["UMCU", "RST", "GV"],
    ["RST", "GV"],
    ["UMCU", "MMA", "RST", "GV"],
)
SECRETS = {"observer": "groene-weide-2290-waarnemer", "chair": "heldere-ochtend-7715-voorzitter"}


@dataclass
class World:
    procedure: Procedure
    references: list[str]
    browsers: dict[str, Browser]
    candidates: dict[str, Browser]  # by application reference, logged in
    settings: Settings

    @property
    def base(self) -> str:
        return f"/manage/procedures/{self.procedure.reference}/placement"


def says(response: Any, message: str) -> bool:
    return message in html.unescape(response.text)


@pytest.fixture
def world(factory: Factory, session: Session, new_browser: Any, settings: Settings) -> World:
    """Six candidates, all found suitable (one group of equals), for five places in four
    hospitals; the results published, the lists stated and fixed at the deadline."""
    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=6, institutions=CLUSTER)
    people = factory.committee(procedure)
    round_ = scoring_round.load_round(session, procedure)
    chair = next(m for m in round_.members.values() if m.role == "chair")
    for application in round_.applications:
        scoring_deliberation.record_outcome(
            session, round_=round_, application=application, member=chair,
            levels={c.id: "4" for c in round_.rubric.criteria}, suitable="yes",
            motivation="Op alle criteria goed, met concrete STARR-voorbeelden.",
            reasons={c.id: "Zo besproken en afgesproken." for c in round_.rubric.criteria},
        )  # fmt: skip
    # A cluster has no cut: the results need no draw, everyone suitable goes to placement.
    assert not lottery_draws.rank(session, procedure).needs_draw
    transition.transition(
        session, actor="system", procedure=procedure, action="publish_results", settings=settings
    )
    deadline = utcnow() + timedelta(days=1)
    procedure.preference_deadline = deadline
    session.commit()
    applications = sorted(round_.applications, key=lambda a: a.reference)
    for application, codes in zip(applications, LISTS, strict=True):
        preferences.save(session, procedure=procedure, application=application, codes=codes)
    assert preferences.fix(session, procedure, now=deadline)
    browsers = {}
    admin = factory.user(platform_admin=True)
    roles = {"admin": admin, **{role: people[role] for role in ("observer", "chair", "staff")}}
    for role, user in roles.items():
        browsers[role] = new_browser()
        browsers[role].login(user.email)
    candidates = {}
    for application in applications:
        user = session.get(User, application.applicant_id)
        assert user is not None
        candidates[application.reference] = new_browser()
        candidates[application.reference].login(user.email)
    return World(procedure, [a.reference for a in applications], browsers, candidates, settings)


def hold_ordering_draw(world: World, session: Session) -> dict[str, Any]:
    admin = world.browsers["admin"]
    response = admin.post(f"{world.base}/draw")
    assert response.status_code == 303, response.text
    drawn = lottery_draws.draws(session, world.procedure)[-1]
    number = drawn.draw_id.rsplit("-", 1)[1]
    drawn_url = f"{world.base}/draws/{number}"
    assert drawn.purpose == "ordering" and drawn.places == len(drawn.candidates) == 6
    for role, secret in SECRETS.items():
        response = world.browsers[role].post(
            f"/procedures/{world.procedure.reference}/draws/{number}/commit",
            {"commitment": hashlib.sha256(secret.encode()).hexdigest()},
        )
        assert response.status_code == 303, response.text
    assert admin.post(f"{drawn_url}/announce", {"beacon": ""}).status_code == 303
    for role, secret in SECRETS.items():
        response = world.browsers[role].post(
            f"/procedures/{world.procedure.reference}/draws/{number}/reveal", {"secret": secret}
        )
        assert response.status_code == 303, response.text
    records = admin.get(f"/api/procedures/{world.procedure.reference}/draws").json()
    record = next(r for r in records if r["draw_id"] == drawn.draw_id)
    assert record["status"] == "drawn" and record["reserve"] == []
    return {k: v for k, v in record.items() if k not in ("status", "void_reason", "voided_at")}


def publish(world: World) -> Any:
    return world.browsers["admin"].post(f"{world.base}/rounds", {"confirmed": "1"})


def placements(world: World) -> list[dict[str, Any]]:
    reference = world.procedure.reference
    response = world.browsers["admin"].get(f"/api/procedures/{reference}/placements")
    assert response.status_code == 200
    result: list[dict[str, Any]] = response.json()
    return result


def answer(world: World, reference: str, value: str, sure: str = "1") -> Any:
    return world.candidates[reference].post(
        f"/applications/{reference}/offer", {"answer": value, "sure": sure}
    )


def test_a_placement_of_two_rounds_from_the_ordering_draw_to_the_statement(
    world: World, session: Session
) -> None:
    admin = world.browsers["admin"]
    # Round 1 waits for the priority: the ordering draw comes first.
    refused = publish(world)
    assert refused.status_code == 409 and says(refused, "hold the ordering draw first")
    draw = hold_ordering_draw(world, session)

    refused = admin.post(f"{world.base}/rounds")
    assert refused.status_code == 422 and says(refused, "Tick the box to confirm")
    assert publish(world).status_code == 303
    [round_1] = placements(world)
    # Exactly the spec's computation, on the draw's order, and it verifies with the draw.
    assert round_1["priority"] == draw["order"]
    assert round_1["priority_from"] == {"draw": draw["draw_id"], "seed": draw["seed"]}
    expected = match.assign(
        match.institutions_of(round_1["institutions"]), draw["order"], round_1["preferences"]
    )
    assert round_1["assignment"] == expected.assignment
    assert round_1["unplaced"] == expected.unplaced
    assert verifylib.verify(round_1, None, draw).ok
    # The record is chained whole, and every placed candidate got an offer by e-mail.
    session.rollback()
    chained = (
        session.execute(
            select(AuditEntry).where(
                AuditEntry.chain == world.procedure.reference,
                AuditEntry.action == "placement.round",
            )
        )
        .scalars()
        .all()
    )
    assert [json.loads(e.data)["record"] for e in chained] == [round_1]
    placed = [ref for ref, code in round_1["assignment"].items() if code]
    letters = (
        session.execute(select(Mail.body).where(col(Mail.subject).contains(world.procedure.title)))
        .scalars()
        .all()
    )
    for ref in placed:
        assert any(f"/applications/{ref}#placement" in body for body in letters), ref

    # The first placed candidate declines; the others accept, one of them twice.
    decliner = placed[0]
    page = world.candidates[decliner].get(f"/applications/{decliner}")
    assert says(page, "Accept this place")
    refused = answer(world, decliner, "decline", sure="")
    assert refused.status_code == 422 and says(refused, "you then leave the placement")
    assert answer(world, decliner, "decline").status_code == 303
    refused = answer(world, decliner, "accept")
    assert refused.status_code == 409
    # The next round waits for every open offer.
    refused = publish(world)
    assert refused.status_code == 409 and says(refused, "still open")
    for ref in placed[1:]:
        assert answer(world, ref, "accept").status_code == 303
    # Closing now would strand the freed place: round 2 first.
    refused = admin.post(f"{world.base}/close", {"confirmed": "1"})
    assert refused.status_code == 409 and says(refused, "compute round 2 first")

    assert publish(world).status_code == 303
    round_1_again, round_2 = placements(world)
    assert round_1_again == round_1
    assert round_2["withdrawn"] == [decliner]
    assert round_2["previous"] == match.record_hash(round_1)
    assert verifylib.verify(round_2, round_1, draw).ok
    for ref, code in round_2["assignment"].items():
        before = round_1["assignment"].get(ref)
        if before is not None:  # nobody moves down their own list
            wanted = round_2["preferences"][ref]
            assert code is not None and wanted.index(code) <= wanted.index(before)
    # Those who accepted keep their answer (an upgrade needs none); the newly placed answer.
    session.rollback()
    last = rounds.rounds(session, world.procedure)[-1]
    open_offers = [o for o in rounds.offers(session, last) if o.status == "open"]
    newly = {r for r, c in round_2["assignment"].items() if c and r not in placed}
    assert {_reference(session, o) for o in open_offers} == newly
    for ref in newly:
        assert answer(world, ref, "accept").status_code == 303
    refused = publish(world)
    assert refused.status_code == 409 and says(refused, "Nobody declined in round 2")
    assert admin.post(f"{world.base}/close", {"confirmed": "1"}).status_code == 303

    # The candidate left without a place downloads the statement; nobody else has one.
    for ref in world.references:
        response = world.candidates[ref].get(f"/applications/{ref}/placement-statement.pdf")
        if ref in round_2["unplaced"]:
            assert response.status_code in (200, 503)
            if response.status_code == 200:
                assert response.content.startswith(b"%PDF")
        else:
            assert response.status_code == 404
    # The statement names the procedure; the candidate's data export holds every offer.
    for ref in round_2["unplaced"]:
        statement = world.candidates[ref].get(f"/applications/{ref}/placement-statement.pdf")
        if statement.status_code == 200:
            text = PdfReader(io.BytesIO(statement.content)).pages[0].extract_text()
            assert world.procedure.reference in text and ref in text
    exported = world.candidates[decliner].get("/account/export")
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        data = json.loads(archive.read("data.json"))
    [mine] = data["applications"]
    assert mine["placement_offers"][0]["answer"] == "declined"
    assert mine["preferences"] == [round_1["preferences"][decliner]]
    # After the close nothing moves.
    assert publish(world).status_code == 409
    # The public page and the verify page, filled from the records, agree.
    public = world.candidates[world.references[0]].get(
        f"/procedures/{world.procedure.reference}/placements"
    )
    assert public.status_code == 200 and says(public, round_2["placement_id"])
    filled = admin.get(f"/placement/verify?placement={round_2['placement_id']}&round=2")
    assert json.dumps(round_2["previous"]) in html.unescape(filled.text)
    assert draw["seed"] in filled.text


def _reference(session: Session, offer: PlacementOffer) -> str:
    application = session.get(Application, offer.application_id)
    assert application is not None
    return application.reference


def test_an_answer_after_the_deadline_is_refused_and_counts_as_declined(
    world: World, session: Session
) -> None:
    hold_ordering_draw(world, session)
    assert publish(world).status_code == 303
    [round_1] = placements(world)
    placed = [ref for ref, code in round_1["assignment"].items() if code]
    session.rollback()
    last = rounds.rounds(session, world.procedure)[-1]
    last.answers_due = utcnow() - timedelta(minutes=1)
    session.commit()
    refused = answer(world, placed[0], "accept")
    assert refused.status_code == 409 and says(refused, "counts as declined")
    # Every offer lapsed: round 2 withdraws them all.
    assert publish(world).status_code == 303
    round_2 = placements(world)[-1]
    assert round_2["withdrawn"] == match.by_bytes(placed)


def test_a_committee_member_never_sees_a_list_or_the_placement_page(
    world: World, session: Session
) -> None:
    staff = world.browsers["staff"]
    ref = world.references[0]
    assert staff.get(f"/applications/{ref}").status_code == 404
    assert staff.get(world.base).status_code == 403
    # The admin's page counts the lists and shows none, until round 1 publishes them.
    page = world.browsers["admin"].get(world.base)
    assert page.status_code == 200 and "6" in page.text
    assert "UMCU, MMA, GV" not in page.text


def test_the_ordering_draw_cannot_be_voided_once_round_one_rests_on_it(
    world: World, session: Session
) -> None:
    hold_ordering_draw(world, session)
    assert publish(world).status_code == 303
    [drawn] = priority.ordering_draws(session, world.procedure)
    number = drawn.draw_id.rsplit("-", 1)[1]
    refused = world.browsers["admin"].post(
        f"{world.base}/draws/{number}/void",
        {"reason": "Een bijdrager maakte zijn geheim niet bekend."},
    )
    assert refused.status_code == 409
    refused = world.browsers["admin"].post(f"{world.base}/draw")
    assert refused.status_code == 409


def _score_world(
    factory: Factory, session: Session, settings: Settings, levels: list[list[str]]
) -> Procedure:
    """A cluster under "score, then lottery": candidate k's joint levels are `levels[k]`."""
    procedure = factory.procedure(
        phase=Phase.DELIBERATION, applicants=len(levels), institutions=CLUSTER
    )
    procedure.ranking_rule = "score_then_lottery_at_cut"
    session.commit()
    round_ = scoring_round.load_round(session, procedure)
    chair = next(m for m in round_.members.values() if m.role == "chair")
    criteria = [c.id for c in round_.rubric.criteria]
    for application, mine in zip(
        sorted(round_.applications, key=lambda a: a.reference), levels, strict=True
    ):
        scoring_deliberation.record_outcome(
            session, round_=round_, application=application, member=chair,
            levels=dict(zip(criteria, mine, strict=True)), suitable="yes",
            motivation="Op alle criteria goed, met concrete STARR-voorbeelden.",
            reasons=dict.fromkeys(criteria, "Zo besproken en afgesproken."),
        )  # fmt: skip
    transition.transition(
        session, actor="system", procedure=procedure, action="publish_results", settings=settings
    )
    deadline = utcnow() + timedelta(days=1)
    procedure.preference_deadline = deadline
    session.commit()
    for application in sorted(round_.applications, key=lambda a: a.reference):
        preferences.save(session, procedure=procedure, application=application, codes=["UMCU"])
    assert preferences.fix(session, procedure, now=deadline)
    return procedure


def test_under_the_score_rule_the_ranking_orders_and_a_draw_breaks_only_its_ties(
    factory: Factory, session: Session, settings: Settings
) -> None:
    # Two at the top, three equal below them, one last: the draw orders within the groups.
    procedure = _score_world(
        factory, session, settings,
        [["5"] * 6, ["4"] * 6, ["5"] * 6, ["4"] * 6, ["4"] * 6, ["5"] + ["4"] * 5],
    )  # fmt: skip
    refs = sorted(preferences.fixed_lists(session, procedure))
    # One ordering draw per group of equals, each over exactly that group.
    top_draw, bottom_draw = priority.prepare_draws(session, actor="system", procedure=procedure)
    assert top_draw.candidates == [refs[0], refs[2]] and top_draw.places == 2
    assert bottom_draw.candidates == [refs[1], refs[3], refs[4]] and bottom_draw.places == 3
    with pytest.raises(Conflict, match="heeft zijn volgordeloting al"):
        priority.prepare_draws(session, actor="system", procedure=procedure)
    session.rollback()
    # Round 1 waits until both are drawn.
    demo.hold_ceremony(session, procedure, top_draw, "system")
    with pytest.raises(Conflict, match="houd eerst de volgordeloting"):
        rounds.publish_next(session, settings, actor="system", procedure=procedure)
    session.rollback()
    demo.hold_ceremony(session, procedure, bottom_draw, "system")
    record = rounds.publish_next(session, settings, actor="system", procedure=procedure).record
    assert record["priority_from"] == {
        "ranking": procedure.ranking_rule,
        "draws": [top_draw.draw_id, bottom_draw.draw_id],
    }
    assert record["priority"] == [*top_draw.order, refs[5], *bottom_draw.order]
    # UMCU has two places and everyone wants only UMCU: the top two get them.
    assert [ref for ref, code in record["assignment"].items() if code] == top_draw.order
    for drawn in (top_draw, bottom_draw):
        draw_record = lottery_draws.announced_record(session, drawn, revealed=True)
        assert verifylib.verify(record, None, draw_record).ok


def test_under_the_score_rule_without_ties_no_draw_is_held(
    factory: Factory, session: Session, settings: Settings
) -> None:
    procedure = _score_world(
        factory, session, settings, [["5"] * k + ["4"] * (6 - k) for k in range(3)]
    )
    with pytest.raises(Conflict, match="Er is geen loting nodig"):
        priority.prepare_draws(session, actor="system", procedure=procedure)
    session.rollback()
    record = rounds.publish_next(session, settings, actor="system", procedure=procedure).record
    assert record["priority_from"] == {"ranking": procedure.ranking_rule}
    refs = sorted(preferences.fixed_lists(session, procedure))
    assert record["priority"] == [refs[2], refs[1], refs[0]]
    assert verifylib.verify(record).ok
    # Both placed accept; the admin closes; the one left over gets the statement.
    for ref in (refs[2], refs[1]):
        application = session.execute(
            select(Application).where(Application.reference == ref)
        ).scalar_one()
        rounds.answer(session, settings, procedure=procedure, application=application, accept=True)
    rounds.close(session, settings, actor="system", procedure=procedure)
    left = session.execute(select(Application).where(Application.reference == refs[0])).scalar_one()
    mine = rounds.mine(session, procedure, left)
    assert mine is not None and mine.statement
    placed = session.execute(
        select(Application).where(Application.reference == refs[1])
    ).scalar_one()
    kept = rounds.mine(session, procedure, placed)
    assert kept is not None and not kept.statement


def test_the_statement_says_found_suitable_and_not_placed(
    factory: Factory, session: Session, settings: Settings, new_browser: Any
) -> None:
    procedure = _score_world(
        factory, session, settings, [["5"] * k + ["4"] * (6 - k) for k in range(3)]
    )
    refs = sorted(preferences.fixed_lists(session, procedure))
    rounds.publish_next(session, settings, actor="system", procedure=procedure)
    apps = {
        a.reference: a
        for a in session.execute(
            select(Application).where(Application.procedure_id == procedure.id)
        ).scalars()
    }
    for ref in (refs[2], refs[1]):
        rounds.answer(session, settings, procedure=procedure, application=apps[ref], accept=True)
    browsers: dict[str, Browser] = {}
    for ref in refs:
        user = session.get(User, apps[ref].applicant_id)
        assert user is not None
        browsers[ref] = new_browser()
        browsers[ref].login(user.email)
    url = f"/applications/{refs[0]}/placement-statement.pdf"
    assert browsers[refs[0]].get(url).status_code == 404  # not closed yet
    rounds.close(session, settings, actor="system", procedure=procedure)
    page = browsers[refs[0]].get(f"/applications/{refs[0]}")
    assert says(page, "Download the statement (PDF)")
    statement = browsers[refs[0]].get(url)
    assert statement.status_code == 200
    assert statement.headers["content-type"] == "application/pdf"
    text = PdfReader(io.BytesIO(statement.content)).pages[0].extract_text()
    assert procedure.reference in text and refs[0] in text and procedure.title in text
    # The placed have none, and nobody reads another's.
    assert (
        browsers[refs[1]].get(f"/applications/{refs[1]}/placement-statement.pdf").status_code == 404
    )
    assert browsers[refs[1]].get(url).status_code == 404
