"""The editor's table of contents with the guideline check's findings linked to their
section, and what may no longer change shown as text: the method, the quorum and the
ranking rule after the first application, the opening once applications have opened, the
letter round's decisions once published. A save of the rest keeps them and loses nothing."""

from __future__ import annotations

import html
import re

from sqlmodel import Session

from app.applications import letter_round
from app.procedures import checks
from app.procedures.editor_routes import CHECK_SECTIONS, SECTIONS
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.test_letter_round_and_privacy import apply, to_letter_round
from tests.app.test_publishing import reload


def test_every_check_has_a_section_to_put_it_right() -> None:
    assert {check.name for check in checks.CHECKS} <= set(CHECK_SECTIONS)
    assert set(CHECK_SECTIONS.values()) <= set(SECTIONS)


def test_the_contents_count_the_findings_and_each_finding_links_to_its_section(
    browser: Browser, factory: Factory
) -> None:
    organisation = factory.organisation()
    browser.login(factory.org_admin(organisation).email)
    procedure = factory.bare_procedure(organisation)
    page = html.unescape(browser.get(f"/manage/procedures/{procedure.reference}").text)
    contents = page.split('id="toc-heading"', 1)[1].split("</nav>", 1)[0]
    for section in ("status", "basics", "timeline", "requirements", "committee", "audit"):
        assert f'href="#{section}"' in contents, section
        assert f'id="{section}"' in page, section
    # A bare draft: the timeline, the method, the matrix and the observer are missing.
    timeline = re.search(r'href="#timeline">[^<]+</a>(.*?)</li>', contents, re.S)
    assert timeline and "1 error" in timeline.group(1)
    committee = re.search(r'href="#committee">[^<]+</a>(.*?)</li>', contents, re.S)
    assert committee and "error" in committee.group(1)
    check = page.split('id="check"', 1)[1]
    assert 'href="#timeline">Put it right under: Timeline</a>' in check
    assert 'href="#rubric">Put it right under: Interview matrix</a>' in check
    assert 'href="#committee">Put it right under: Committee and observer</a>' in check


def test_frozen_fields_are_text_and_a_save_keeps_them_and_the_other_edits(
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    organisation = factory.organisation()
    admin = new_browser()
    admin.login(factory.org_admin(organisation).email)
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    url = f"/manage/procedures/{procedure.reference}"
    before = admin.get(url).text
    assert 'name="method"' in before and 'name="ranking_rule"' in before
    # Open: the opening has passed and is shown as text; the deadline can still be moved.
    assert 'name="opens_at"' not in before and 'name="closes_at"' in before

    apply(new_browser(), session, procedure, factory.user("Sanne"))
    page = html.unescape(admin.get(url).text)
    basics = page.split('id="basics"', 1)[1].split("</section>", 1)[0]
    for name in ("method", "method_en", "ranking_rule", "quorum"):
        assert f'name="{name}"' not in basics, name
    # The method, its English version, the quorum and the ranking rule.
    assert basics.count('class="field fixed-field"') == 4
    assert "Fixed since the first application" in basics
    assert procedure.method.split("\n\n")[0] in basics  # the text itself, readable
    timeline = page.split('id="timeline"', 1)[1].split("</section>", 1)[0]
    assert "the deadline can be extended, never brought forward" in timeline
    requirements = page.split('id="requirements"', 1)[1].split("</section>", 1)[0]
    assert (
        'action="/manage/procedures/' + procedure.reference + '/requirements"' not in requirements
    )
    assert "Fixed since the first application" in requirements

    # The form as the page sends it now: the frozen fields absent, a new description.
    current = reload(session, procedure.reference)
    form = {
        "title": current.title, "specialty": current.specialty, "region": current.region,
        "description": "Een nieuwe beschrijving van de opleiding.", "places": current.places,
        "retention_weeks": current.retention_weeks,
        "justification": "De beschrijving was te summier voor sollicitanten.",
    }  # fmt: skip
    saved = admin.post(f"{url}/basics", form)
    assert saved.status_code == 303, saved.text
    after = reload(session, procedure.reference)
    assert after.description == "Een nieuwe beschrijving van de opleiding."
    assert (after.method, after.quorum, after.ranking_rule) == (
        current.method, current.quorum, current.ranking_rule,
    )  # fmt: skip
    # Sent anyway (an old tab): still refused, with the reason, as before.
    refused = admin.post(f"{url}/basics", {**form, "quorum": "2"})
    assert refused.status_code == 409 and "can no longer be changed" in refused.text


def test_the_letter_round_shows_published_decisions_as_text(
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    organisation = factory.organisation()
    admin = new_browser()
    admin.login(factory.org_admin(organisation).email)
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    reference = apply(new_browser(), session, procedure, factory.user("Daan"))
    procedure = to_letter_round(session, procedure)
    url = f"/manage/procedures/{procedure.reference}/letter-round"
    assert 'name="reason-' in admin.get(url).text
    requirements = letter_round.minimum_requirements(session, procedure)
    [(application, _user)] = letter_round.submitted(session, procedure)
    verdicts = {r.id: ("met", "") for r in requirements[1:]}
    verdicts[requirements[0].id] = ("not_met", "Geen BIG-registratie gevonden.")
    letter_round.decide(
        session, actor="system", procedure=procedure, application=application, verdicts=verdicts
    )
    letter_round.publish(session, factory.settings, actor="system", procedure=procedure)
    page = admin.get(url).text
    section = page.split(f'id="{reference}"', 1)[1].split("</section>", 1)[0]
    assert "<input" not in section and "<form" not in section
    assert "Not met</strong>: Geen BIG-registratie gevonden." in section
    assert "the decision can no longer change" in section
