"""English versions of a procedure's published texts (issue 20): optional per text, entered
in the editor under the Dutch text's own rules (a public correction after publication, fixed
with it once applications exist), shown to English visitors, with a note and the Dutch
marked as Dutch where a text has none; the guideline check warns while one is missing."""

from __future__ import annotations

import html
from typing import Any

from sqlmodel import Session

from app.audit import service as audit
from app.conduct import facts as conduct_facts
from app.i18n import set_language
from app.procedures import queries
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.test_letter_round_and_privacy import apply
from tests.app.test_publishing import editor_post, reload

NOTE = "There is no English version of this text: it is shown in Dutch."


def basics(procedure: Any, **change: str) -> dict[str, Any]:
    form = {
        "title": procedure.title, "specialty": procedure.specialty, "region": procedure.region,
        "description": procedure.description, "places": procedure.places,
        "method": procedure.method, "quorum": procedure.quorum,
        "ranking_rule": procedure.ranking_rule, "retention_weeks": procedure.retention_weeks,
    }  # fmt: skip
    return form | change


def english_warning(session: Session, reference: str) -> list[str] | None:
    findings = conduct_facts.guideline_check(session, reload(session, reference))
    found = next((f for f in findings if f.check == "english_missing"), None)
    return list(found.details) if found else None


def test_english_versions_in_the_editor_and_on_an_english_page(
    new_browser: Any, factory: Factory, session: Session
) -> None:
    organisation = factory.organisation()
    admin = new_browser()
    admin.login(factory.org_admin(organisation).email)
    # A complete draft: the demo's texts have their English, the description has none.
    procedure = factory.procedure(organisation)
    reference = procedure.reference
    set_language("en")
    assert english_warning(session, reference) == ["About the training"]
    added = editor_post(admin, reference, "requirements", {
        "kind": "minimum", "text": "Een VOG", "rationale": "Vereist door het ziekenhuis.",
    })  # fmt: skip
    assert added.status_code == 303  # type: ignore[attr-defined]
    added = editor_post(admin, reference, "pluses", {
        "plus_kind": "other", "plus_description": "Vrijwilligerswerk in de zorg",
    })  # fmt: skip
    assert added.status_code == 303  # type: ignore[attr-defined]
    assert english_warning(session, reference) == [
        "About the training", "Requirement: Een VOG", "Plus: Vrijwilligerswerk in de zorg",
    ]  # fmt: skip

    saved = editor_post(admin, reference, "basics", basics(
        procedure, description_en="A test procedure.", method_en="A STARR interview.",
    ))  # fmt: skip
    assert saved.status_code == 303  # type: ignore[attr-defined]
    current = reload(session, reference)
    assert (current.description_en, current.method_en) == (
        "A test procedure.", "A STARR interview.",
    )  # fmt: skip
    requirement = next(r for r in queries.requirements(session, current) if r.text == "Een VOG")
    assert requirement.text_en == ""
    url = f"/manage/procedures/{reference}/requirements/{requirement.id}/english"
    refused = admin.post(url, {"text_en": "", "rationale_en": "Because."})
    assert refused.status_code == 422 and "as well as of why" in refused.text
    saved = admin.post(url, {"text_en": "A certificate of conduct", "rationale_en": "By law."})
    assert saved.status_code == 303
    plus = next(p for p in queries.pluses(session, current) if p.kind == "other")
    saved = admin.post(
        f"/manage/procedures/{reference}/pluses/{plus.id}/english",
        {"plus_description_en": "Volunteering in care"},
    )
    assert saved.status_code == 303
    assert english_warning(session, reference) is None
    added = editor_post(admin, reference, "requirements", {
        "kind": "criterion", "text": "Ervaring in onderwijs", "rationale": "Opleiders leren.",
        "text_en": "Teaching experience", "rationale_en": "Trainers teach.",
    })  # fmt: skip
    assert added.status_code == 303  # type: ignore[attr-defined]
    added = editor_post(admin, reference, "requirements", {
        "kind": "criterion", "text": "Belangstelling voor onderzoek", "rationale": "Vak.",
    })  # fmt: skip
    chained = [e["action"] for e in audit.entries(session, reference)]
    assert "requirement.translated" in chained and "plus.translated" in chained
    # A draft is edited freely: no correction asked, none published.
    assert queries.corrections(session, reload(session, reference)) == []

    editor = html.unescape(admin.get(f"/manage/procedures/{reference}").text)
    assert "A certificate of conduct" in editor and "Volunteering in care" in editor

    english = new_browser()
    english.get("/lang/en?next=/")
    english.login(factory.org_admin(organisation).email)  # a draft: its admins see it
    page = html.unescape(english.get(f"/procedures/{reference}").text)
    assert "A test procedure." in page and "A STARR interview." in page
    assert "A certificate of conduct" in page and "By law." in page
    assert "Teaching experience" in page and "Trainers teach." in page
    assert "Volunteering in care" in page and "Een VOG" not in page
    # The requirement not translated: in Dutch, marked as Dutch, with the note.
    assert '<span lang="nl">Belangstelling voor onderzoek</span> <span class="no-english">' in page
    dutch = new_browser()
    dutch.get("/lang/nl?next=/")
    dutch.login(factory.org_admin(organisation).email)
    page = html.unescape(dutch.get(f"/procedures/{reference}").text)
    assert "A test procedure." not in page and "Een VOG" in page
    assert "no-english" not in page

    api = admin.get(f"/api/procedures/{reference}")
    assert api.status_code == 404  # a draft is not open data; the published one is below


def test_after_publication_a_translation_is_a_public_correction_and_then_fixed(
    new_browser: Any, factory: Factory, session: Session
) -> None:
    organisation = factory.organisation()
    admin = new_browser()
    admin.login(factory.org_admin(organisation).email)
    procedure = factory.procedure(organisation, phase=Phase.PUBLISHED)
    reference = procedure.reference
    set_language("en")
    assert "english_missing" in reload(session, reference).published_warnings
    # English visitors read the Dutch, with the note, and the published warning.
    visitor = new_browser()
    visitor.get("/lang/en?next=/")
    page = html.unescape(visitor.get(f"/procedures/{reference}").text)
    assert NOTE in page and '<div class="prose" lang="nl">' in page
    assert "A published text has no English version" in page

    form = basics(procedure, description_en="A test procedure.")
    refused = editor_post(admin, reference, "basics", form)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert reload(session, reference).description_en == ""
    why = "The English readers asked for it."
    saved = editor_post(admin, reference, "basics", form | {"justification": why})
    assert saved.status_code == 303  # type: ignore[attr-defined]
    current = reload(session, reference)
    corrections = queries.corrections(session, current)
    assert corrections[-1].justification == why
    assert "About the training (English)" in corrections[-1].text

    for requirement in queries.requirements(session, current):
        assert admin.post(
            f"/manage/procedures/{reference}/requirements/{requirement.id}/english",
            {"text_en": f"In English: {requirement.id}", "rationale_en": "Why, in English.",
             "justification": why},
        ).status_code == 303  # fmt: skip
    for plus in queries.pluses(session, current):
        assert (
            admin.post(
                f"/manage/procedures/{reference}/pluses/{plus.id}/english",
                {"plus_description_en": "A plus, in English.", "justification": why},
            ).status_code
            == 303
        )
    saved = editor_post(admin, reference, "basics", basics(
        current, description_en="A test procedure.", method_en="The method.", justification=why,
    ))  # fmt: skip
    assert saved.status_code == 303  # type: ignore[attr-defined]
    # Every text translated: the published warning goes, the note too.
    assert english_warning(session, reference) is None
    assert "english_missing" not in reload(session, reference).published_warnings
    page = html.unescape(visitor.get(f"/procedures/{reference}").text)
    assert NOTE not in page and "Dutch only" not in page and "The method." in page
    detail = visitor.get(f"/api/procedures/{reference}").json()
    assert detail["method_en"] == "The method." and detail["description_en"]
    assert detail["requirements"][0]["text_en"].startswith("In English: ")
    assert detail["pluses"][0]["description_en"] == "A plus, in English."

    # Once there is an application, the English follows the Dutch: fixed.
    factory.session.commit()
    transition_open(session, reference)
    apply(new_browser(), session, reload(session, reference), factory.user("Sanne"))
    requirement = queries.requirements(session, reload(session, reference))[0]
    refused = admin.post(
        f"/manage/procedures/{reference}/requirements/{requirement.id}/english",
        {"text_en": "Changed.", "justification": why},
    )
    assert refused.status_code == 409 and "can no longer be changed" in refused.text
    refused = editor_post(admin, reference, "basics", basics(
        reload(session, reference), method_en="Another method.", justification=why,
    ))  # fmt: skip
    assert refused.status_code == 409  # type: ignore[attr-defined]
    # The English description is no criterion: it may still be corrected, publicly.
    saved = editor_post(admin, reference, "basics", {
        key: value for key, value in basics(
            reload(session, reference), description_en="A better text.", justification=why,
        ).items() if key not in ("method", "quorum", "ranking_rule")
    })  # fmt: skip
    assert saved.status_code == 303  # type: ignore[attr-defined]
    assert reload(session, reference).description_en == "A better text."
    editor = admin.get(f"/manage/procedures/{reference}").text
    assert 'name="method_en"' not in editor and "Fixed with the method." in editor
    assert f"/requirements/{requirement.id}/english" not in editor


def transition_open(session: Session, reference: str) -> None:
    from app.conduct import transition

    procedure = reload(session, reference)
    assert procedure.opens_at is not None
    transition.transition(
        session, actor="system", procedure=procedure, action="open", now=procedure.opens_at
    )


def test_the_english_versions_have_their_limits(browser: Browser, factory: Factory) -> None:
    organisation = factory.organisation()
    browser.login(factory.org_admin(organisation).email)
    procedure = factory.procedure(organisation)
    refused = editor_post(browser, procedure.reference, "basics",
                          basics(procedure, method_en="x" * 20_001))  # fmt: skip
    assert refused.status_code == 422  # type: ignore[attr-defined]
    refused = editor_post(browser, procedure.reference, "pluses", {
        "plus_kind": "phd", "plus_description": "", "plus_description_en": "A PhD.",
    })  # fmt: skip
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "needs the Dutch description" in refused.text  # type: ignore[attr-defined]
