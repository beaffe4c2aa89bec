"""The national pool of assessors (issue 16): a person's own record (join, correct, export,
leave), records added by a WV admin, the admins' search, composing a committee from the
pool, and the guideline check reading the composition from the pool records."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from app.accounts.models import Mail, User
from app.audit.models import AuditEntry
from app.db import utcnow
from app.pool.models import PoolEntry
from app.procedures import checks
from app.procedures.facts import procedure_facts
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory

RECORD = {
    "function": "aios",
    "specialty": "Anesthesiologie",
    "institution": "UMC Utrecht",
    "region": "Utrecht",
    "starr_course": "STARR-interviewen (NVA)",
    "starr_on": "12-03-2025",
    "bias_course": "Onbewuste vooroordelen",
    "bias_on": "2025-04-02",
}


def says(response: Any, message: str) -> bool:
    return message in html.unescape(response.text)


def entry_of(session: Session, user_id: int | None) -> PoolEntry | None:
    session.rollback()
    return session.execute(
        select(PoolEntry).where(PoolEntry.user_id == user_id)
    ).scalar_one_or_none()


def join(session: Session, factory: Factory, new_browser: Any, **changes: str) -> Any:
    user = factory.user()
    browser: Browser = new_browser()
    browser.login(user.email)
    response = browser.post("/pool", {**RECORD, **changes})
    assert response.status_code == 303, response.text
    entry = entry_of(session, user.id)
    assert entry is not None
    return user, entry


def test_a_person_joins_corrects_exports_and_leaves(
    session: Session, factory: Factory, browser: Browser
) -> None:
    user = factory.user()
    browser.login(user.email)
    assert says(browser.get("/pool"), "You are not in the pool")
    joined = browser.post("/pool", RECORD)
    assert joined.status_code == 303
    assert says(browser.get("/pool"), "You are in the pool now.")
    entry = entry_of(session, user.id)
    assert entry is not None and entry.trained and entry.added_by == "self"
    assert str(entry.starr_on) == "2025-03-12" and str(entry.bias_on) == "2025-04-02"

    assert browser.post("/pool", {**RECORD, "function": "staff"}).status_code == 303
    entry = entry_of(session, user.id)
    assert entry is not None and entry.function == "staff"

    exported = browser.get("/pool/export.json")
    assert exported.status_code == 200
    assert "attachment" in exported.headers["content-disposition"]
    body = json.loads(exported.text)
    assert body["email"] == user.email and body["pool"]["function"] == "staff"
    assert body["pool"]["starr_on"] == "2025-03-12"

    refused = browser.post("/pool/leave", {})
    assert refused.status_code == 422 and says(refused, "Tick the box")
    assert entry_of(session, user.id) is not None
    assert browser.post("/pool/leave", {"confirm": "yes"}).status_code == 303
    assert entry_of(session, user.id) is None
    actions = [
        e.action
        for e in session.execute(
            select(AuditEntry).where(AuditEntry.subject == f"user:{user.id}")
        ).scalars()
        if e.action.startswith("pool.")
    ]
    assert actions == ["pool.joined", "pool.corrected", "pool.left"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"function": "surgeon"}, "function", "Choose a function."),
        ({"specialty": "Astrologie"}, "specialty", "Choose a specialty from the list."),
        ({"region": "Mars"}, "region", "Choose a region from the list."),
        ({"institution": "  "}, "institution", "Enter the institution"),
        ({"institution": "x" * 201}, "institution", "Enter the institution"),
        ({"starr_on": "31-02-2025"}, "starr_on", "Enter a date with the day first"),
        ({"starr_on": "١٢-٠٣-٢٠٢٥"}, "starr_on", "Enter a date with the day first"),
        ({"bias_on": "01-01-2999"}, "bias_on", "Enter a date between 2000 and 2100."),
        ({"starr_course": ""}, "starr_course", "Name the course"),
        ({"bias_on": ""}, "bias_on", "Enter the day you completed"),
    ],
)
def test_a_bad_record_is_refused_with_its_field_and_keeps_the_saved_one(
    session: Session,
    factory: Factory,
    new_browser: Any,
    change: dict[str, str],
    field: str,
    message: str,
) -> None:
    user, _entry = join(session, factory, new_browser)
    browser: Browser = new_browser()
    browser.login(user.email)
    refused = browser.post("/pool", {**RECORD, "function": "staff", **change})
    assert refused.status_code == 422
    assert says(refused, message)
    assert f'id="f-{field}"' in refused.text
    kept = entry_of(session, user.id)
    assert kept is not None and kept.function == "aios"  # nothing saved is lost


def test_a_training_day_in_the_future_is_refused(
    session: Session, factory: Factory, browser: Browser
) -> None:
    user = factory.user()
    browser.login(user.email)
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    refused = browser.post("/pool", {**RECORD, "bias_on": tomorrow})
    assert refused.status_code == 422 and says(refused, "cannot lie in the future")
    assert entry_of(session, user.id) is None


def test_the_admins_search_by_function_specialty_region_training_and_name(
    session: Session, factory: Factory, new_browser: Any
) -> None:
    trainee, _ = join(session, factory, new_browser)
    staff, _ = join(
        session, factory, new_browser,
        function="staff", region="Leiden", institution="LUMC", bias_course="", bias_on="",
    )  # fmt: skip
    nurse, _ = join(
        session, factory, new_browser,
        function="nurse", specialty="Interne geneeskunde", institution="Isala Zwolle",
    )  # fmt: skip
    admin: Browser = new_browser()
    admin.login(factory.org_admin(factory.organisation()).email)

    def found(**query: str) -> set[str]:
        response = admin.get("/manage/pool", params=query)
        assert response.status_code == 200
        return {u.name for u in (trainee, staff, nurse) if u.name in response.text}

    assert found() == {trainee.name, staff.name, nurse.name}
    assert found(function="aios") == {trainee.name}
    assert found(specialty="Interne geneeskunde") == {nurse.name}
    assert found(region="Leiden") == {staff.name}
    assert found(trained="yes") == {trainee.name, nurse.name}
    assert found(q="isala") == {nurse.name}
    assert found(function="surgeon") == {trainee.name, staff.name, nurse.name}  # ignored
    # The admins see the contact details, to invite.
    assert staff.email in admin.get("/manage/pool").text


def test_only_admins_search_or_add(factory: Factory, new_browser: Any) -> None:
    someone: Browser = new_browser()
    someone.login(factory.user().email)
    assert someone.get("/manage/pool").status_code == 403
    assert someone.post("/manage/pool", {"email": "x@example.org", **RECORD}).status_code == 403
    assert new_browser().get("/manage/pool").status_code == 303  # to the login


def test_an_admin_adds_someone_who_is_told_and_corrects_it(
    session: Session, factory: Factory, new_browser: Any
) -> None:
    admin: Browser = new_browser()
    admin_user = factory.org_admin(factory.organisation())
    admin.login(admin_user.email)
    added = admin.post(
        "/manage/pool", {"email": "nieuw.poollid@example.org", "name": "Anouk Pool", **RECORD}
    )
    assert added.status_code == 303, added.text
    session.rollback()
    person = session.execute(
        select(User).where(User.email == "nieuw.poollid@example.org")
    ).scalar_one()
    entry = entry_of(session, person.id)
    assert entry is not None and entry.added_by == f"user:{admin_user.id}"
    told = session.execute(select(Mail).where(Mail.recipient == person.email)).scalar_one()
    assert "/pool" in told.body and "/invitations/" in told.body  # choose a password first
    assert says(admin.get("/manage/pool"), "Anouk Pool is in the pool now and has been told.")
    again = admin.post(
        "/manage/pool", {"email": "Nieuw.Poollid@example.org", "name": "Anouk", **RECORD}
    )
    assert again.status_code == 409 and says(again, "Anouk Pool is in the pool already.")
    assert 'value="Nieuw.Poollid@example.org"' in again.text  # the form keeps what was typed


def names_in(findings: list[checks.Finding], check: str) -> tuple[str, ...] | None:
    found = next((f for f in findings if f.check == check), None)
    return found.details if found is not None else None


def test_an_admin_composes_the_committee_from_the_pool(
    session: Session, factory: Factory, new_browser: Any
) -> None:
    organisation = factory.organisation()
    procedure = factory.bare_procedure(organisation)
    trainee, trainee_entry = join(session, factory, new_browser)
    untrained, untrained_entry = join(
        session, factory, new_browser, function="staff", starr_course="", starr_on=""
    )
    admin: Browser = new_browser()
    admin.login(factory.org_admin(organisation).email)
    base = f"/manage/procedures/{procedure.reference}/pool"
    page = admin.get(base)
    assert page.status_code == 200 and trainee.name in page.text
    for entry, role in ((trainee_entry, "member"), (untrained_entry, "chair")):
        response = admin.post(f"{base}/{entry.id}", {"role": role, "back": "?function=aios"})
        assert response.status_code == 303, response.text
    assert response.headers["location"] == f"{base}?function=aios#found"
    session.rollback()
    seated = {
        m.user_id: m
        for m in session.execute(
            select(ProcedureMember).where(ProcedureMember.procedure_id == procedure.id)
        ).scalars()
    }
    assert seated[trainee.id].function == "aios" and seated[trainee.id].training_done
    assert seated[untrained.id].role == "chair" and not seated[untrained.id].training_done
    # Once on the committee the page says so instead of offering the invitation again.
    assert says(admin.get(base), "On this procedure's committee")
    again = admin.post(f"{base}/{trainee_entry.id}", {"role": "member"})
    assert again.status_code == 409 and says(again, "has a role in this procedure already")
    assert admin.post(f"{base}/{trainee_entry.id}", {"role": "observer"}).status_code == 422
    assert admin.post(f"{base}/999999", {"role": "member"}).status_code == 404

    # The guideline check reads the pool: the chair's training, once recorded, counts.
    procedure_row = session.get(Procedure, procedure.id)
    assert procedure_row is not None
    before = checks.run(procedure_facts(session, procedure_row), utcnow())
    assert names_in(before, "untrained_members") == ("1 van de 2 commissieleden",)
    chair: Browser = new_browser()
    chair.login(untrained.email)
    assert chair.post("/pool", {**RECORD, "function": "staff"}).status_code == 303
    session.rollback()
    after = checks.run(procedure_facts(session, procedure_row), utcnow())
    assert names_in(after, "untrained_members") is None
    # And the function: the trainee who qualified as a specialist is no longer the aios.
    assert names_in(after, "no_aios") is None
    qualified: Browser = new_browser()
    qualified.login(trainee.email)
    assert qualified.post("/pool", {**RECORD, "function": "staff"}).status_code == 303
    session.rollback()
    later = checks.run(procedure_facts(session, procedure_row), utcnow())
    assert names_in(later, "no_aios") == ()


def test_composing_is_for_the_procedures_own_admins(
    session: Session, factory: Factory, new_browser: Any
) -> None:
    procedure = factory.bare_procedure()
    _user, entry = join(session, factory, new_browser)
    other: Browser = new_browser()
    other.login(factory.org_admin(factory.organisation()).email)
    base = f"/manage/procedures/{procedure.reference}/pool"
    assert other.get(base).status_code == 404  # a draft they may not know exists
    assert other.post(f"{base}/{entry.id}", {"role": "member"}).status_code == 404
    member: Browser = new_browser()
    member.login(factory.member(procedure).email)
    assert member.get(base).status_code == 403


def test_after_publication_a_pool_invitation_needs_a_public_reason(
    session: Session, factory: Factory, new_browser: Any
) -> None:
    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    _user, entry = join(session, factory, new_browser)
    admin: Browser = new_browser()
    admin.login(factory.org_admin(organisation).email)
    base = f"/manage/procedures/{procedure.reference}/pool"
    assert 'name="justification"' in admin.get(base).text
    refused = admin.post(f"{base}/{entry.id}", {"role": "member"})
    assert refused.status_code == 422
    done = admin.post(f"{base}/{entry.id}", {"role": "member", "justification": "Extra aios."})
    assert done.status_code == 303


def test_the_check_names_a_panel_without_a_trainee(
    session: Session, factory: Factory, new_browser: Any
) -> None:
    procedure = factory.procedure(phase=Phase.LETTER_ROUND, extra_members=2)
    admin: Browser = new_browser()
    admin.login(factory.user(platform_admin=True).email)
    base = f"/manage/procedures/{procedure.reference}"
    for name in ("Panel A", "Panel B"):
        assert admin.post(f"{base}/panels", {"name": name}).status_code == 303
    session.rollback()
    from app.interviews.models import Panel

    panels = {
        p.name: p.id
        for p in session.execute(select(Panel).where(Panel.procedure_id == procedure.id)).scalars()
    }
    members = {
        m.function if m.role == "member" else m.role: m
        for m in session.execute(
            select(ProcedureMember).where(ProcedureMember.procedure_id == procedure.id)
        ).scalars()
    }
    seat = {members["aios"].id: "Panel A", members["chair"].id: "Panel B"}
    for member_id, name in seat.items():
        response = admin.post(
            f"{base}/panels/seats", {"member": str(member_id), "panel": str(panels[name])}
        )
        assert response.status_code == 303
    session.rollback()
    row = session.get(Procedure, procedure.id)
    assert row is not None
    findings = checks.run(procedure_facts(session, row), utcnow())
    assert names_in(findings, "panel_without_aios") == ("Panel B",)
    editor = admin.get(base)
    assert says(editor, "A panel has no trainee (aios)") and "Panel B" in editor.text
