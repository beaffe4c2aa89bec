"""Publishing as a WV admin does it, and the public catalogue as a visitor reads it."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.models import Mail
from app.applications.models import Application
from app.audit import service as audit
from app.conduct import facts
from app.db import utcnow
from app.forms import local_input
from app.procedures import editor, queries
from app.procedures.models import Procedure, Requirement
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory


def reload(session: Session, reference: str) -> Procedure:
    """The procedure as the app left it: end the test's snapshot and forget cached values."""
    session.rollback()
    session.expire_all()
    return session.execute(select(Procedure).where(Procedure.reference == reference)).scalar_one()


def editor_post(browser: Browser, reference: str, part: str, data: dict) -> object:
    return browser.post(f"/manage/procedures/{reference}/{part}", data)


def test_draft_fails_the_check_then_is_fixed_and_published(
    browser: Browser,
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    organisation = factory.organisation("nva")
    admin = factory.org_admin(organisation)
    browser.login(admin.email)
    created = browser.post(
        "/manage/organisations/nva/procedures",
        {"reference": "ane-utr-2028-1", "title": "Anesthesiologie Utrecht 2028",
         "specialty": "Anesthesiologie", "region": "Cluster Utrecht", "places": "3"},
    )  # fmt: skip
    assert created.status_code == 303
    reference = "ANE-UTR-2028-1"
    page = browser.get(f"/manage/procedures/{reference}").text
    assert "errors block publishing" in page and "No independent observer" in page
    refused = editor_post(browser, reference, "transition", {"action": "publish"})
    assert refused.status_code == 409
    assert "The guideline check fails" in refused.text
    assert reload(session, reference).phase == Phase.DRAFT

    now = utcnow()
    basics = {
        "title": "Anesthesiologie Utrecht 2028", "specialty": "Anesthesiologie",
        "region": "Cluster Utrecht", "description": "Opleiding.", "places": "3",
        "method": "STARR-gesprek met drie commissieleden.", "quorum": "3",
        "ranking_rule": "lottery_among_suitable", "retention_weeks": "4",
        "description_en": "Training.", "method_en": "A STARR interview with three members.",
    }  # fmt: skip
    assert editor_post(browser, reference, "basics", basics).status_code == 303
    timeline = {
        "opens_at": local_input(now + timedelta(days=5)),
        "closes_at": local_input(now + timedelta(days=30)),
        "letter_round_result_at": local_input(now + timedelta(days=40)),
        "interview_day": [(now + timedelta(days=50)).date().isoformat()],
        "final_result_at": local_input(now + timedelta(days=60)),
    }
    assert editor_post(browser, reference, "timeline", timeline).status_code == 303
    requirement = {"kind": "minimum", "text": "BIG-registratie", "rationale": "Wettelijk vereist.",
                   "text_en": "BIG registration", "rationale_en": "Required by law."}  # fmt: skip
    assert editor_post(browser, reference, "requirements", requirement).status_code == 303
    plus = {"plus_kind": "phd", "plus_description": "Alleen bij gelijke geschiktheid.",
            "plus_description_en": "Only between equally suitable candidates."}  # fmt: skip
    assert editor_post(browser, reference, "pluses", plus).status_code == 303
    rubric = queries.available_rubrics()[0]
    pinned = editor_post(browser, reference, "rubric", {"rubric": f"{rubric.id}@{rubric.version}"})
    assert pinned.status_code == 303
    for name, role, function in (
        ("Opleider", "chair", "opleider"), ("Staflid", "member", "staff"),
        ("Aios", "member", "aios"), ("Waarnemer", "observer", ""),
    ):  # fmt: skip
        invited = editor_post(
            browser, reference, "invitations",
            {"name": name, "email": f"{name.lower()}@example.org", "role": role,
             "function": function or "other", "training_done": "true"},
        )  # fmt: skip
        assert invited.status_code == 303, invited.text

    page = browser.get(f"/manage/procedures/{reference}").text
    assert "finding-error" not in page and "follows every point" in page
    published = editor_post(browser, reference, "transition", {"action": "publish"})
    assert published.status_code == 303
    procedure = reload(session, reference)
    assert procedure.phase == Phase.PUBLISHED and procedure.published_at is not None
    assert procedure.rubric_hash == rubric.content_hash()

    visitor = new_browser()
    catalogue = visitor.get("/?q=utrecht").text
    assert "Anesthesiologie Utrecht 2028" in catalogue
    # A Dutch reader reads the Dutch texts; an English one their English versions.
    visitor.get("/lang/nl?next=/")
    public = visitor.get(f"/procedures/{reference}").text
    for expected in ("BIG-registratie", "Wettelijk vereist.", "STARR-gesprek", "Opleider",
                     "Waarnemer", rubric.criteria[0].name.nl, "PhD (promotie)"):  # fmt: skip
        assert expected in public
    visitor.get("/lang/en?next=/")
    public = visitor.get(f"/procedures/{reference}").text
    for expected in ("BIG registration", "Required by law.", "A STARR interview", "Opleider",
                     "Waarnemer", rubric.criteria[0].name.en, "PhD"):  # fmt: skip
        assert expected in public
    data = visitor.get(f"/api/procedures/{reference}").json()
    assert data["requirements"][0]["rationale"] == "Wettelijk vereist."
    assert data["rubric"]["content_hash"] == rubric.content_hash()
    assert [m["role"] for m in data["committee"]].count("observer") == 1
    ics = visitor.get(f"/procedures/{reference}/calendar.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert b"BEGIN:VEVENT" in ics.content and b"Deadline sollicitatie" in ics.content
    actions = [e["action"] for e in audit.entries(session, reference)]
    assert actions[0] == "procedure.created" and actions[-1] == "procedure.published"
    assert audit.verify_stored(session, reference).ok


def test_bad_input_is_refused_specifically_and_nothing_is_saved_half(
    browser: Browser, factory: Factory, session: Session
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.bare_procedure(organisation)
    browser.login(admin.email)
    reference = procedure.reference
    now = utcnow()
    response = editor_post(browser, reference, "timeline", {
        "opens_at": local_input(now + timedelta(days=10)),
        "closes_at": local_input(now + timedelta(days=5)),
    })  # fmt: skip
    assert response.status_code == 422
    assert "The closing date must be after the opening date." in response.text
    assert reload(session, reference).opens_at is None

    basics = {"title": "T", "specialty": "S", "region": "R", "places": "-2", "quorum": "3",
              "method": "nieuwe methode"}  # fmt: skip
    response = editor_post(browser, reference, "basics", basics)
    assert response.status_code == 422 and "from 1 to 500 for places" in response.text
    assert reload(session, reference).method == ""
    response = editor_post(browser, reference, "basics", {**basics, "places": "many"})
    assert response.status_code == 422 and "whole number" in response.text

    response = editor_post(browser, reference, "timeline", {"opens_at": "morgen"})
    assert response.status_code == 422 and "2027-03-01 09:30" in response.text

    response = editor_post(browser, reference, "transition", {"action": "open"})
    assert response.status_code == 409 and "not possible in the current phase" in response.text
    response = editor_post(browser, reference, "rubric", {"rubric": "no-such@9"})
    assert response.status_code == 422

    # a draft's criteria and pluses can be removed again, and the chain says so
    editor_post(
        browser, reference, "requirements", {"kind": "minimum", "text": "X", "rationale": "Y"}
    )
    editor_post(browser, reference, "pluses", {"plus_kind": "languages"})
    procedure = reload(session, reference)
    requirement = queries.requirements(session, procedure)[0]
    plus = queries.pluses(session, procedure)[0]
    assert (
        editor_post(browser, reference, f"requirements/{requirement.id}/delete", {}).status_code
        == 303
    )
    assert editor_post(browser, reference, f"pluses/{plus.id}/delete", {}).status_code == 303
    procedure = reload(session, reference)
    assert queries.requirements(session, procedure) == queries.pluses(session, procedure) == []
    actions = [e["action"] for e in audit.entries(session, reference)]
    assert "requirement.removed" in actions and "plus.removed" in actions


def test_transitions_wait_for_their_preconditions(
    browser: Browser, factory: Factory, session: Session
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.PUBLISHED)
    browser.login(admin.email)
    procedure = reload(session, procedure.reference)
    procedure.opens_at = utcnow() + timedelta(days=3)
    session.commit()
    response = editor_post(browser, procedure.reference, "transition", {"action": "open"})
    assert response.status_code == 409 and "Applications open on" in response.text
    procedure = reload(session, procedure.reference)
    procedure.opens_at = utcnow() - timedelta(minutes=1)
    session.commit()
    assert (
        editor_post(browser, procedure.reference, "transition", {"action": "open"}).status_code
        == 303
    )
    response = editor_post(browser, procedure.reference, "transition", {"action": "close"})
    assert response.status_code == 409 and "applications can still come in" in response.text
    assert reload(session, procedure.reference).phase == Phase.OPEN


def test_freeze_after_the_first_application_and_public_corrections(
    browser: Browser,
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    reference = procedure.reference
    browser.login(admin.email)
    # before any application the criteria may still change, as a justified public correction
    extra = {"kind": "criterion", "text": "Extra", "rationale": "Omdat."}
    unjustified = editor_post(browser, reference, "requirements", extra)
    assert unjustified.status_code == 422 and "say why this change is needed" in unjustified.text
    added = editor_post(browser, reference, "requirements",
                        {**extra, "justification": "Vergeten bij publicatie."})  # fmt: skip
    assert added.status_code == 303
    applicant = factory.user()
    session.add(Application(procedure_id=procedure.id, applicant_id=applicant.id,
                            reference=f"{reference}-0001"))  # fmt: skip
    session.commit()
    count = len(
        session.execute(select(Requirement).where(Requirement.procedure_id == procedure.id)).all()
    )

    refused = editor_post(browser, reference, "requirements",
                          {"kind": "minimum", "text": "Nieuw", "rationale": "x"})  # fmt: skip
    assert refused.status_code == 409 and "can no longer be changed" in refused.text
    requirement_id = (
        session.execute(select(Requirement.id).where(Requirement.procedure_id == procedure.id))
        .scalars()
        .first()
    )
    assert (
        editor_post(browser, reference, f"requirements/{requirement_id}/delete", {}).status_code
        == 409
    )
    assert editor_post(browser, reference, "pluses", {"plus_kind": "phd"}).status_code == 409
    assert (
        editor_post(browser, reference, "rubric", {"rubric": "starr-interview@1"}).status_code
        == 409
    )
    current = reload(session, reference)
    basics = {
        "title": current.title, "specialty": current.specialty, "region": current.region,
        "description": current.description, "places": str(current.places),
        "method": "Een andere methode", "quorum": str(current.quorum),
        "ranking_rule": current.ranking_rule, "retention_weeks": str(current.retention_weeks),
    }  # fmt: skip
    refused = editor_post(browser, reference, "basics", basics)
    assert refused.status_code == 409 and reload(session, reference).method == current.method
    # the title is not frozen
    retitled = {**basics, "method": current.method, "title": "Nieuwe titel",
                "justification": "Een typefout in de titel."}  # fmt: skip
    assert editor_post(browser, reference, "basics", retitled).status_code == 303
    session.rollback()
    assert (
        len(
            session.execute(
                select(Requirement).where(Requirement.procedure_id == procedure.id)
            ).all()
        )
        == count
    )

    unjustified = {"subject": "criteria", "text": "De eis X vervalt.", "justification": ""}
    missing = editor_post(browser, reference, "corrections", unjustified)
    assert missing.status_code == 422 and "Say why" in missing.text
    done = editor_post(browser, reference, "corrections", {
        "subject": "criteria", "text": "De eis 'Extra' weegt niet mee.",
        "justification": "Door een fout gepubliceerd.",
    })  # fmt: skip
    assert done.status_code == 303
    public = new_browser().get(f"/procedures/{reference}").text
    assert (
        "De eis &#39;Extra&#39; weegt niet mee." in public
        and "Door een fout gepubliceerd." in public
    )
    session.rollback()
    assert "procedure.corrected" in [e["action"] for e in audit.entries(session, reference)]


def test_editing_a_rubric_file_never_changes_a_pinned_procedure(
    factory: Factory, session: Session, tmp_path: Path
) -> None:
    source = queries.available_rubrics()[0]
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(source.content(), allow_unicode=True, sort_keys=False))
    procedure = factory.bare_procedure()
    key = f"{source.id}@{source.version}"
    editor.pin_rubric(session, actor="system", procedure=procedure, key=key, directory=tmp_path)
    pinned_hash, pinned = procedure.rubric_hash, json.dumps(procedure.rubric_content)
    changed = source.content()
    changed["criteria"][0]["weight"] = 3
    path.write_text(yaml.safe_dump(changed, allow_unicode=True, sort_keys=False))
    procedure = reload(session, procedure.reference)
    assert procedure.rubric_hash == pinned_hash
    assert json.dumps(procedure.rubric_content) == pinned
    assert queries.pinned_rubric(procedure).criteria[0].weight == source.criteria[0].weight  # type: ignore[union-attr]


def test_catalogue_filters_and_json(browser: Browser, factory: Factory) -> None:
    organisation = factory.organisation()
    open_one = factory.procedure(organisation, phase=Phase.OPEN)
    factory.procedure(organisation, phase=Phase.INTERVIEWS)
    draft = factory.procedure(organisation)
    everything = browser.get("/api/procedures").json()
    references = {item["reference"] for item in everything}
    assert open_one.reference in references and draft.reference not in references
    only_open = browser.get("/api/procedures?status=open").json()
    assert [item["reference"] for item in only_open] == [open_one.reference]
    page = browser.get("/?status=open").text
    assert open_one.title in page
    assert browser.get("/?closes_before=not-a-date").status_code == 422
    assert browser.get("/api/procedures?status=nonsense").status_code == 422
    assert browser.get(f"/api/procedures/{draft.reference}").status_code == 404
    feed = browser.get("/procedures.ics").content
    assert open_one.reference.encode() in feed and draft.reference.encode() not in feed
    schema = browser.get("/openapi.json").json()
    assert "/api/procedures/{reference}" in schema["paths"]


def test_the_observer_declares_ties_and_the_check_sees_them(
    browser: Browser, factory: Factory, session: Session
) -> None:
    procedure = factory.bare_procedure()
    observer = factory.member(procedure, "observer")
    browser.login(observer.email)
    assert (
        browser.post(f"/procedures/{procedure.reference}/ties", {"has_ties": "yes"}).status_code
        == 422
    )
    response = browser.post(
        f"/procedures/{procedure.reference}/ties",
        {"has_ties": "yes", "ties": "Zus van de opleider"},
    )
    assert response.status_code == 303
    findings = facts.guideline_check(session, reload(session, procedure.reference))
    assert "observer_tie" in {f.check for f in findings}
    browser.post(f"/procedures/{procedure.reference}/ties", {"has_ties": "no", "ties": "x"})
    findings = facts.guideline_check(session, reload(session, procedure.reference))
    assert "observer_tie" not in {f.check for f in findings}


def _public(browser: Browser, reference: str) -> str:
    return html.unescape(browser.get(f"/procedures/{reference}").text)


def test_a_change_after_publication_is_a_public_correction_and_the_warnings_follow(
    browser: Browser,
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    """Before: a published procedure without applications took a new hard requirement
    silently; the change log said "no corrections" and the published warnings stayed."""
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.PUBLISHED)
    reference = procedure.reference
    assert "hard_requirement_plus" not in reload(session, reference).published_warnings
    count = len(queries.requirements(session, procedure))
    browser.login(admin.email)
    phd = {"kind": "minimum", "text": "Gepromoveerd zijn", "rationale": "Onderzoek telt."}
    refused = editor_post(browser, reference, "requirements", phd)
    assert refused.status_code == 422
    assert "This procedure is published: say why this change is needed" in html.unescape(
        refused.text
    )
    assert len(queries.requirements(session, reload(session, reference))) == count
    reader = new_browser()
    assert "No corrections since publication." in _public(reader, reference)

    why = "De commissie wil onderzoekservaring zien."
    added = editor_post(browser, reference, "requirements", {**phd, "justification": why})
    assert added.status_code == 303
    page = _public(reader, reference)
    assert "No corrections since publication." not in page
    assert "Added, minimum requirement: Gepromoveerd zijn" in page and why in page
    assert "A PhD, anios or regional experience is a hard requirement" in page
    current = reload(session, reference)
    assert "hard_requirement_plus" in current.published_warnings
    [correction] = queries.corrections(session, current)
    assert (correction.subject, correction.justification) == ("criteria", why)
    actions = [e["action"] for e in audit.entries(session, reference)]
    assert actions[-3:] == ["requirement.added", "procedure.corrected", "procedure.warnings"]

    # Removing it is a correction too, and the warning goes again.
    requirement = next(
        r for r in queries.requirements(session, current) if r.text == "Gepromoveerd zijn"
    )
    removed = editor_post(browser, reference, f"requirements/{requirement.id}/delete",
                          {"justification": "Een doctoraat mag alleen een plus zijn."})  # fmt: skip
    assert removed.status_code == 303
    assert "hard_requirement_plus" not in reload(session, reference).published_warnings
    assert "Removed, minimum requirement: Gepromoveerd zijn" in _public(reader, reference)


def test_every_public_part_changes_only_with_a_published_reason(
    browser: Browser,
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    """Places, method, pluses, committee and observer: each change after publication asks
    for a reason and appears, dated, in the public change log."""
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.PUBLISHED)
    reference = procedure.reference
    people = factory.committee(procedure)
    browser.login(admin.email)
    current = reload(session, reference)
    basics = {
        "title": current.title, "specialty": current.specialty, "region": current.region,
        "description": current.description, "places": "3", "method": current.method,
        "quorum": str(current.quorum), "ranking_rule": current.ranking_rule,
        "retention_weeks": str(current.retention_weeks),
    }  # fmt: skip
    members = {m.user_id: m for m, _user in queries.members(session, current)}
    aios, observer = members[people["aios"].id], members[people["observer"].id]
    changes = [
        ("basics", basics, "places", "Places: 2 → 3"),
        ("basics", {**basics, "method": "Een nieuwe methode."}, "method", "Method: new text"),
        ("pluses", {"plus_kind": "phd"}, "pluses", "Plus added: PhD (doctorate)"),
        (f"members/{aios.id}", {"function": "nurse"}, "committee",
         f"{people['aios'].name}: trainee (aios) → nurse"),
        (f"members/{observer.id}/delete", {}, "observer",
         f"Removed: {people['observer'].name}, observer"),
        ("invitations", {"name": "Nieuwe Waarnemer", "email": "w2@example.org",
                         "role": "observer", "function": ""},
         "observer", "Added: Nieuwe Waarnemer, observer"),
    ]  # fmt: skip
    for number, (part, data, subject, text) in enumerate(changes, 1):
        before = reload(session, reference)
        refused = editor_post(browser, reference, part, data)
        assert refused.status_code == 422, (part, refused.status_code)
        assert "say why this change is needed" in html.unescape(refused.text)
        assert reload(session, reference).places == before.places
        why = f"Reden nummer {number}: een correctie."
        done = editor_post(browser, reference, part, {**data, "justification": why})
        assert done.status_code in (200, 303), (part, done.text)
        found = queries.corrections(session, reload(session, reference))
        assert len(found) == number
        assert (found[-1].subject, found[-1].justification) == (subject, why)
        assert found[-1].text.startswith(text), found[-1].text
        assert text in _public(new_browser(), reference)
    # Changing the aios's function left no trainee on the committee: the check says so.
    assert "no_aios" in reload(session, reference).published_warnings
    assert "No trainee (aios) on the committee" in _public(new_browser(), reference)


def test_once_applications_exist_the_deadline_is_extended_never_brought_forward(
    browser: Browser, factory: Factory, session: Session
) -> None:
    """Before: with applications in, the closing time moved earlier with no warning, no
    public correction, nothing in the change log and no e-mail."""
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    reference = procedure.reference
    drafter, applicant, withdrawn = factory.user(), factory.user(), factory.user()
    for number, (user, status) in enumerate(
        ((drafter, "draft"), (applicant, "submitted"), (withdrawn, "withdrawn")), 1
    ):
        session.add(Application(procedure_id=procedure.id, applicant_id=user.id,
                                reference=f"{reference}-000{number}", status=status))  # fmt: skip
    session.commit()
    current = reload(session, reference)
    closes = current.closes_at
    assert closes is not None
    timeline = {
        "opens_at": local_input(current.opens_at),
        "letter_round_result_at": local_input(current.letter_round_result_at),
        "interview_day": current.interview_days,
        "final_result_at": local_input(current.final_result_at),
        "justification": "Storing in het systeem op de laatste dag.",
    }
    browser.login(admin.email)
    sooner = {**timeline, "closes_at": local_input(closes - timedelta(minutes=24))}
    earlier = editor_post(browser, reference, "timeline", sooner)
    assert earlier.status_code == 409
    assert "the deadline can be extended, never brought forward" in html.unescape(earlier.text)
    assert reload(session, reference).closes_at == closes
    assert queries.corrections(session, current) == []

    later = closes + timedelta(days=2)
    bare = {**timeline, "closes_at": local_input(later), "justification": ""}
    unjustified = editor_post(browser, reference, "timeline", bare)
    assert unjustified.status_code == 422
    assert reload(session, reference).closes_at == closes
    extended = editor_post(browser, reference, "timeline",
                           {**timeline, "closes_at": local_input(later)})  # fmt: skip
    assert extended.status_code == 303, extended.text
    current = reload(session, reference)
    assert current.closes_at == later.replace(second=0, microsecond=0)
    [correction] = queries.corrections(session, current)
    assert correction.subject == "timeline" and correction.text.startswith("Applications close:")
    page = _public(browser, reference)
    assert "Storing in het systeem op de laatste dag." in page
    told = session.execute(
        select(Mail.recipient).where(col(Mail.subject).contains("Deadline extended"))
    ).scalars()
    assert sorted(told) == sorted([drafter.email, applicant.email])
    changed = [e for e in audit.entries(session, reference) if e["action"] == "procedure.changed"]
    assert changed[-1]["data"]["told"] == 2
