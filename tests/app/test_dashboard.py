"""The applicant's overview (/my) through the real routes: each application with its stages
and the next date, from a draft to a withdrawal, not invited, the outcome and the place,
and a cluster's placement from the preferences to the offer. A withdrawn procedure is no
longer offered to apply to, and nothing redirects without saying why."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlmodel import Session, select

from app.applications import letter_round
from app.applications.models import Application
from app.lottery import results
from app.placement import rounds
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.placement.test_rounds import (  # noqa: F401 (the fixture)
    World,
    answer,
    hold_ordering_draw,
    publish,
    world,
)
from tests.app.test_applications import form, fresh, pdfs
from tests.app.test_letter_round_and_privacy import apply, to_letter_round


def card(page: Any, reference: str) -> str:
    """The overview's card of one application, as text with its stages' states."""
    text = page.text
    match = re.search(
        rf'<li class="application-card[^"]*" id="a-{reference}">(.*?)</ol>', text, re.S
    )
    assert match, f"no card for {reference}"
    return html.unescape(match.group(1))


def states(card_html: str) -> dict[str, str]:
    """Each stage's key word (Application, Letter round, ...) and its state."""
    found = re.findall(r'class="stage stage-(\w+)".*?class="stage-name">([^<]+)<', card_html, re.S)
    return {name: state for state, name in found}


def open_list(page: Any) -> str:
    return page.text.split("Open for applications now", 1)[1]


def test_one_application_from_the_draft_to_the_withdrawal(
    browser: Browser, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    other = factory.procedure(phase=Phase.OPEN)
    browser.login(factory.user("Sanne Jansen").email)
    empty = browser.get("/my")
    assert "You have not applied anywhere yet." in empty.text
    assert procedure.reference in open_list(empty) and other.reference in open_list(empty)

    url = f"/procedures/{procedure.reference}/apply"
    assert (
        browser.post(url, {**form(session, procedure), "action": "save"}, files=pdfs()).status_code
        == 303
    )
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    reference = application.reference
    draft = browser.get("/my")
    shown = card(draft, reference)
    assert states(shown) == {
        "Application": "current",
        "Letter round": "upcoming",
        "Interview": "upcoming",
        "Outcome": "upcoming",
        "Placement": "upcoming",
    }
    assert "A draft, not sent yet. Send it before the deadline" in shown
    assert "Next: <strong>Deadline</strong>" in shown
    assert f'href="/procedures/{procedure.reference}/apply">Continue with your application' in shown
    # Applied to: no longer offered under the open procedures; the other one still is.
    assert procedure.reference not in open_list(draft) and other.reference in open_list(draft)
    public = browser.get(f"/procedures/{procedure.reference}")
    assert "Continue with your application" in public.text

    assert browser.post(url, {**form(session, procedure), "action": "submit"}).status_code == 303
    sent = card(browser.get("/my"), reference)
    assert states(sent)["Application"] == "done" and "Sent on" in sent
    assert "Next: <strong>Letter-round result</strong>" in sent
    assert "You applied on" in browser.get(f"/procedures/{procedure.reference}").text
    again = browser.get(url)
    assert again.status_code == 303 and again.headers["location"] == f"/applications/{reference}"
    assert "You have sent your application already" in browser.get(again.headers["location"]).text

    assert browser.post(f"/applications/{reference}/withdraw").status_code == 303
    page = browser.get("/my")
    gone = card(page, reference)
    assert states(gone) == {
        "Application": "ended",
        "Letter round": "skipped",
        "Interview": "skipped",
        "Outcome": "skipped",
        "Placement": "skipped",
    }
    assert "You withdrew your application on" in gone and "Next:" not in gone
    assert procedure.reference not in open_list(page)
    # The public page says so instead of offering to apply; the form says why it is not there.
    public = browser.get(f"/procedures/{procedure.reference}")
    assert "You withdrew your application to this procedure on" in html.unescape(public.text)
    assert f'href="/procedures/{procedure.reference}/apply"' not in public.text
    refused = browser.get(url)
    assert (
        refused.status_code == 303 and refused.headers["location"] == f"/applications/{reference}"
    )
    told = browser.get(refused.headers["location"])
    assert "You withdrew your application to this procedure: it cannot be sent again." in (
        html.unescape(told.text)
    )


def test_not_invited_ends_at_the_letter_round(
    new_browser: Any, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    sanne, daan = factory.user("Sanne"), factory.user("Daan")
    sanne_browser, daan_browser = new_browser(), new_browser()
    sanne_ref, daan_ref = (
        apply(sanne_browser, session, procedure, sanne),
        apply(daan_browser, session, procedure, daan),
    )
    procedure = to_letter_round(session, procedure)
    waiting = card(daan_browser.get("/my"), daan_ref)
    assert states(waiting)["Letter round"] == "current"

    requirements = letter_round.minimum_requirements(session, procedure)
    by_reference = {a.reference: a for a, _u in letter_round.submitted(session, procedure)}
    letter_round.decide(
        session,
        actor="system",
        procedure=procedure,
        application=by_reference[sanne_ref],
        verdicts={r.id: ("met", "") for r in requirements},
    )
    letter_round.decide(
        session,
        actor="system",
        procedure=procedure,
        application=by_reference[daan_ref],
        verdicts={r.id: ("met", "") for r in requirements[1:]}
        | {requirements[0].id: ("not_met", "Geen BIG-registratie gevonden.")},
    )
    letter_round.publish(session, factory.settings, actor="system", procedure=procedure)

    refused = card(daan_browser.get("/my"), daan_ref)
    assert states(refused) == {
        "Application": "done",
        "Letter round": "ended",
        "Interview": "skipped",
        "Outcome": "skipped",
        "Placement": "skipped",
    }
    assert "You are not invited to an interview" in refused
    assert f'href="/applications/{daan_ref}">Read why' in refused
    invited = card(sanne_browser.get("/my"), sanne_ref)
    assert states(invited)["Letter round"] == "done"
    assert states(invited)["Interview"] == "current"
    assert "Next: <strong>Interview day</strong>" in invited


def test_the_outcome_and_the_place_after_the_results(
    new_browser: Any, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.RESULTS, applicants=4)
    seen = set()
    for user in factory.last_applicants:
        application = session.execute(
            select(Application).where(Application.applicant_id == user.id)
        ).scalar_one()
        result = results.applicant_result(session, procedure, application)
        assert result is not None
        browser = new_browser()
        browser.login(user.email)
        shown = card(browser.get("/my"), application.reference)
        found = states(shown)
        assert found["Application"] == found["Letter round"] == found["Interview"] == "done"
        seen.add(result.standing)
        if result.standing == "not_suitable":
            assert found["Outcome"] == "ended" and found["Placement"] == "skipped"
            assert "found you not suitable" in shown
        else:
            assert found["Outcome"] == "done" and "found you suitable" in shown
            expected = {"placed": "done", "reserve": "current"}.get(result.standing, "ended")
            assert found["Placement"] == expected, result.standing
            if result.standing == "placed":
                assert "You have a training place." in shown
        assert f'href="/applications/{application.reference}#result">Read your result' in shown
    assert "placed" in seen  # the demo's scores place someone in four


def test_a_clusters_placement_from_the_offer_to_the_answer(
    world: World,  # noqa: F811 (the fixture)
    session: Session,
) -> None:
    reference = world.references[0]
    before = card(world.candidates[reference].get("/my"), reference)
    assert states(before)["Placement"] == "current"
    assert "Your list of preferences is fixed" in before

    hold_ordering_draw(world, session)
    assert publish(world).status_code == 303
    fresh(session)
    procedure = session.get(Procedure, world.procedure.id)
    assert procedure is not None
    offered = []
    for ref in world.references:
        application = session.execute(
            select(Application).where(Application.reference == ref)
        ).scalar_one()
        mine = rounds.mine(session, procedure, application)
        assert mine is not None
        shown = card(world.candidates[ref].get("/my"), ref)
        if mine.offer is not None:
            offered.append(ref)
            assert mine.institution is not None
            assert states(shown)["Placement"] == "current"
            assert f"You are offered a training place at {mine.institution.name}" in shown
            assert "Next: <strong>Answer the offer by</strong>" in shown
            assert f'href="/applications/{ref}#placement">Answer the offer' in shown
        else:
            assert "a later round may still place you" in shown
    taker, decliner = offered[0], offered[1]
    assert answer(world, taker, "accept").status_code == 303
    assert answer(world, decliner, "decline").status_code == 303
    taken = card(world.candidates[taker].get("/my"), taker)
    assert states(taken)["Placement"] == "done" and "You accepted a place at" in taken
    declined = card(world.candidates[decliner].get("/my"), decliner)
    assert states(declined)["Placement"] == "ended" and "You declined the place at" in declined
    assert "Next:" not in declined
    # Nobody else's overview shows the candidate's application.
    stranger_page = world.browsers["staff"].get("/my")
    assert taker not in stranger_page.text
