"""The editor's pages: a procedure's basics, timeline, requirements, pluses, rubric,
committee, corrections and life-cycle steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import flash, forms, permissions
from app.audit import service as audit
from app.audit.service import actor_id
from app.conduct import facts as conduct_facts
from app.conduct import transition as conduct_transition
from app.db import utcnow
from app.deps import AppSettings, CurrentPrincipal, DbSession
from app.errors import DomainError
from app.i18n import gettext as _
from app.i18n import ngettext
from app.procedures import checks, lifecycle, queries
from app.procedures import committee as procedure_committee
from app.procedures import corrections as procedure_corrections
from app.procedures import editor as procedure_editor
from app.procedures import institutions as procedure_institutions
from app.procedures.models import Organisation, Procedure
from app.procedures.vocabulary import Phase, PlusKind
from app.scoring import round as scoring_round
from app.web import local_time, render

router = APIRouter()

# The editor's sections in page order, and where each check of the guideline is put right:
# the table of contents counts the findings per section and each finding links to it.
SECTIONS = (
    "status", "basics", "timeline", "requirements", "pluses", "institutions", "rubric",
    "committee", "corrections", "audit",
)  # fmt: skip
CHECK_SECTIONS = {
    "rationale_missing": "requirements",
    "no_minimum_requirements": "requirements",
    "hard_requirement_plus": "requirements",
    "no_method": "basics",
    "no_lottery_rule": "basics",
    "quorum_too_large": "basics",
    "retention_missing": "basics",
    "english_missing": "basics",
    "no_rubric": "rubric",
    "no_observer": "committee",
    "observer_tie": "committee",
    "no_aios": "committee",
    "panel_without_aios": "committee",
    "one_function": "committee",
    "untrained_members": "committee",
    "role_overlap": "committee",
    "no_second_admin": "committee",
    "timeline": "timeline",
    "capacities": "institutions",
    "preference_deadline": "institutions",
}


def section_of(finding: checks.Finding) -> str:
    return CHECK_SECTIONS.get(finding.check, "status")


def _managed(session: DbSession, principal: CurrentPrincipal, reference: str) -> Procedure:
    # Admins of another organisation may not even learn a draft exists.
    return permissions.require_procedure(
        session, principal, reference, permissions.can_manage_procedure
    )


def _editor(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    section: str | None = None,
    values: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    round_ = scoring_round.load_round(session, procedure) if procedure.rubric_content else None
    facts = conduct_facts.facts_for(session, procedure, round_)
    now = utcnow()
    findings = checks.run(facts, now)
    step = lifecycle.next_transition(procedure.phase)
    blockers = lifecycle.blockers(step, procedure.phase, facts, now, local_time) if step else []
    by_section: dict[str, list[checks.Finding]] = {}
    for finding in findings:
        by_section.setdefault(section_of(finding), []).append(finding)
    current = queries.phase_now(procedure, now)
    return render(
        request,
        "procedures/editor.html",
        {
            "procedure": procedure,
            "organisation": session.get(Organisation, procedure.organisation_id),
            "members": queries.members(session, procedure),
            "requirements": queries.requirements(session, procedure),
            "pluses": queries.pluses(session, procedure),
            "institutions": queries.institutions(session, procedure),
            "corrections": queries.corrections(session, procedure),
            "rubric": queries.pinned_rubric(procedure),
            "rubrics": queries.available_rubrics(),
            "frozen": queries.is_frozen(session, procedure),
            "findings": findings,
            "by_section": by_section,
            "check_sections": {f.check: section_of(f) for f in findings},
            # What may no longer change is shown as text, not as an input that the save
            # would refuse (and lose the other edits of its form with it).
            "opening_fixed": current not in (Phase.DRAFT, Phase.PUBLISHED),
            "deadline_fixed": current not in (Phase.DRAFT, Phase.PUBLISHED, Phase.OPEN),
            "places_draw": queries.fixing_draw(session, procedure),
            "step": step,
            "blockers": blockers,
            "head": audit.head(session, procedure.reference),
            "audit_refusal": permissions.audit_export_refusal(
                scoring_round.view_of(session, principal, procedure, round_)
            ),
            "functions": queries.FUNCTIONS,
            "ranking_rules": queries.RANKING_RULES,
            "plus_kinds": [kind.value for kind in PlusKind],
            "correction_subjects": procedure_corrections.CORRECTION_SUBJECTS,
            "error": error,
            "section": section,
            "values": values or {},
        },
        status_code=status_code,
    )


def _back(request: Request, procedure: Procedure, section: str, done: str) -> Response:
    """Back to the section that was saved, with the message that says it was."""
    return flash.redirect(request, f"/manage/procedures/{procedure.reference}#{section}", done)


def _edit(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    section: str,
    change: Callable[[Procedure, str], object],
    values: dict[str, Any] | None = None,
    *,
    done: str | Callable[[object], str],
) -> Response:
    """Run one editor change; on a refusal show the editor with the message in place, else
    go back to its section saying what was done (`done` may read what the change returned)."""
    procedure = _managed(session, principal, reference)
    permissions.require(principal, permissions.can_edit_procedure(principal, procedure))
    try:
        outcome = change(procedure, actor_id(principal.user_id))
    except DomainError as error:
        session.rollback()
        procedure = queries.get_procedure(session, reference)
        return _editor(
            request,
            session,
            principal,
            procedure,
            error=error,
            section=section,
            values=values,
            status_code=error.status_code,
        )
    return _back(request, procedure, section, done(outcome) if callable(done) else done)


@router.get("/manage/procedures/{reference}", name="manage_procedure")
def manage_procedure(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _managed(session, principal, reference)
    return _editor(request, session, principal, procedure)


@router.get("/manage/organisations/{slug}/procedures/new", name="new_procedure")
def new_procedure_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, slug: str
) -> Response:
    organisation = _managed_organisation(session, principal, slug)
    return render(request, "procedures/new.html", {"organisation": organisation, "values": {}})


def _managed_organisation(
    session: DbSession, principal: CurrentPrincipal, slug: str
) -> Organisation:
    permissions.require_login(principal)
    organisation = queries.get_organisation(session, slug)
    permissions.require(principal, permissions.can_manage_organisation(principal, organisation))
    return organisation


@router.post("/manage/organisations/{slug}/procedures")
def create_procedure(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    slug: str,
    reference: Annotated[str, Form(max_length=200)] = "",
    title: Annotated[str, Form(max_length=1000)] = "",
    specialty: Annotated[str, Form(max_length=1000)] = "",
    region: Annotated[str, Form(max_length=1000)] = "",
    places: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    organisation = _managed_organisation(session, principal, slug)
    values = {
        "reference": reference,
        "title": title,
        "specialty": specialty,
        "region": region,
        "places": places,
    }
    try:
        procedure = procedure_editor.create_procedure(
            session,
            actor=actor_id(principal.user_id),
            organisation=organisation,
            reference=reference,
            title=title,
            specialty=specialty,
            region=region,
            places=forms.integer(places, "places", _("places"), minimum=1, maximum=500),
        )
    except DomainError as error:
        session.rollback()
        return render(
            request,
            "procedures/new.html",
            {"organisation": organisation, "values": values, "error": error},
            status_code=error.status_code,
        )
    return RedirectResponse(f"/manage/procedures/{procedure.reference}", status_code=303)


@router.post("/manage/procedures/{reference}/basics")
def edit_basics(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    title: Annotated[str, Form(max_length=1000)] = "",
    specialty: Annotated[str, Form(max_length=1000)] = "",
    region: Annotated[str, Form(max_length=1000)] = "",
    description: Annotated[str, Form(max_length=20_000)] = "",
    # The fields the editor shows as text once they are fixed (the method, its English
    # version, the quorum and the ranking rule after the freeze, the places with an
    # announced draw) are not sent: absent, a fixed field keeps its value.
    places: Annotated[str | None, Form(max_length=20)] = None,
    method: Annotated[str | None, Form(max_length=20_000)] = None,
    quorum: Annotated[str | None, Form(max_length=20)] = None,
    ranking_rule: Annotated[str | None, Form(max_length=100)] = None,
    retention_weeks: Annotated[str, Form(max_length=20)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
    description_en: Annotated[str | None, Form(max_length=20_000)] = None,
    method_en: Annotated[str | None, Form(max_length=20_000)] = None,
) -> Response:
    typed = {
        "title": title,
        "specialty": specialty,
        "region": region,
        "description": description,
        "description_en": description_en,
        "places": places,
        "method": method,
        "method_en": method_en,
        "quorum": quorum,
        "ranking_rule": ranking_rule,
        "retention_weeks": retention_weeks,
        "justification": justification,
    }
    values = {key: value for key, value in typed.items() if value is not None}

    def change(procedure: Procedure, actor: str) -> None:
        frozen = queries.is_frozen(session, procedure)
        drawn = queries.fixing_draw(session, procedure) is not None

        def sent(value: str | None, fixed: bool) -> str | None:
            """None: not sent because it is shown as fixed, so it keeps its value."""
            return None if value is None and fixed else (value or "")

        places_sent, method_sent = sent(places, drawn), sent(method, frozen)
        quorum_sent, rule_sent = sent(quorum, frozen), sent(ranking_rule, frozen)
        procedure_editor.update_basics(
            session,
            actor=actor,
            procedure=procedure,
            title=title,
            specialty=specialty,
            region=region,
            description=description,
            places=procedure.places
            if places_sent is None
            else forms.integer(places_sent, "places", _("places"), minimum=1, maximum=500),
            method=procedure.method if method_sent is None else method_sent,
            quorum=procedure.quorum
            if quorum_sent is None
            else forms.integer(quorum_sent, "quorum", _("quorum"), minimum=1, maximum=20),
            ranking_rule=procedure.ranking_rule if rule_sent is None else rule_sent,
            retention_weeks=forms.optional_integer(
                retention_weeks, "retention_weeks", _("retention period"), minimum=1, maximum=52
            ),
            justification=justification,
            description_en=description_en,
            method_en=method_en,
        )

    return _edit(
        request, session, principal, reference, "basics", change, values,
        done=_("The procedure and its method are saved."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/timeline")
def edit_timeline(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    # Once applications have opened (and once the deadline has passed) the editor shows
    # the opening (and the deadline) as text: absent then, they keep their value.
    opens_at: Annotated[str | None, Form(max_length=40)] = None,
    closes_at: Annotated[str | None, Form(max_length=40)] = None,
    letter_round_result_at: Annotated[str, Form(max_length=40)] = "",
    interview_day: Annotated[list[str], Form(max_length=40)] = [],  # noqa: B006
    final_result_at: Annotated[str, Form(max_length=40)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    typed = {
        "opens_at": opens_at,
        "closes_at": closes_at,
        "letter_round_result_at": letter_round_result_at,
        "interview_days": interview_day,
        "final_result_at": final_result_at,
        "justification": justification,
    }
    values = {key: value for key, value in typed.items() if value is not None}

    def change(procedure: Procedure, actor: str) -> None:
        current = queries.phase_now(procedure)
        opening_fixed = opens_at is None and current not in (Phase.DRAFT, Phase.PUBLISHED)
        deadline_fixed = closes_at is None and current not in (
            Phase.DRAFT, Phase.PUBLISHED, Phase.OPEN,
        )  # fmt: skip
        procedure_editor.set_timeline(
            session,
            actor=actor,
            procedure=procedure,
            opens_at=procedure.opens_at
            if opening_fixed
            else forms.local_datetime(opens_at or "", "opens_at"),
            closes_at=procedure.closes_at
            if deadline_fixed
            else forms.local_datetime(closes_at or "", "closes_at"),
            letter_round_result_at=forms.local_datetime(
                letter_round_result_at, "letter_round_result_at"
            ),
            interview_days=forms.dates(interview_day[:10], "interview_days"),
            final_result_at=forms.local_datetime(final_result_at, "final_result_at"),
            justification=justification,
            format_time=local_time,
            settings=settings,
        )

    return _edit(
        request, session, principal, reference, "timeline", change, values,
        done=_("The timeline is saved."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/requirements")
def add_requirement(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    kind: Annotated[str, Form(max_length=40)] = "",
    text: Annotated[str, Form(max_length=5000)] = "",
    rationale: Annotated[str, Form(max_length=20_000)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
    text_en: Annotated[str, Form(max_length=5000)] = "",
    rationale_en: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_editor.add_requirement(
            session, actor=actor, procedure=procedure, kind=kind, text=text, rationale=rationale,
            justification=justification, text_en=text_en, rationale_en=rationale_en,
        )  # fmt: skip

    values = {"kind": kind, "text": text, "rationale": rationale, "justification": justification,
              "text_en": text_en, "rationale_en": rationale_en}  # fmt: skip
    return _edit(
        request, session, principal, reference, "requirements", change, values,
        done=_("The requirement is added."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/requirements/{requirement_id}/delete")
def remove_requirement(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    requirement_id: forms.Id,
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_editor.remove_requirement(
            session, actor=actor, procedure=procedure, requirement_id=requirement_id,
            justification=justification,
        )  # fmt: skip

    values = {"justification": justification, "row": f"r{requirement_id}"}
    return _edit(
        request, session, principal, reference, "requirements", change, values,
        done=_("The requirement is removed."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/requirements/{requirement_id}/english")
def translate_requirement(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    requirement_id: forms.Id,
    text_en: Annotated[str, Form(max_length=5000)] = "",
    rationale_en: Annotated[str, Form(max_length=20_000)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_editor.translate_requirement(
            session, actor=actor, procedure=procedure, requirement_id=requirement_id,
            text_en=text_en, rationale_en=rationale_en, justification=justification,
        )  # fmt: skip

    values = {"justification": justification, "row": f"e{requirement_id}",
              "text_en": text_en, "rationale_en": rationale_en}  # fmt: skip
    return _edit(
        request, session, principal, reference, "requirements", change, values,
        done=_("The English version is saved."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/pluses/{plus_id}/english")
def translate_plus(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    plus_id: forms.Id,
    plus_description_en: Annotated[str, Form(max_length=5000)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_editor.translate_plus(
            session, actor=actor, procedure=procedure, plus_id=plus_id,
            description_en=plus_description_en, justification=justification,
        )  # fmt: skip

    values = {"justification": justification, "row": f"pe{plus_id}",
              "plus_description_en": plus_description_en}  # fmt: skip
    return _edit(
        request, session, principal, reference, "pluses", change, values,
        done=_("The English version is saved."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/pluses")
def add_plus(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    plus_kind: Annotated[str, Form(max_length=40)] = "",
    plus_description: Annotated[str, Form(max_length=5000)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
    plus_description_en: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_editor.add_plus(
            session, actor=actor, procedure=procedure, kind=plus_kind,
            description=plus_description, justification=justification,
            description_en=plus_description_en,
        )  # fmt: skip

    values = {
        "plus_kind": plus_kind,
        "plus_description": plus_description,
        "plus_description_en": plus_description_en,
        "justification": justification,
    }
    return _edit(
        request, session, principal, reference, "pluses", change, values,
        done=_("The plus is added."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/pluses/{plus_id}/delete")
def remove_plus(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    plus_id: forms.Id,
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_editor.remove_plus(
            session, actor=actor, procedure=procedure, plus_id=plus_id,
            justification=justification,
        )  # fmt: skip

    values = {"justification": justification, "row": f"p{plus_id}"}
    return _edit(
        request, session, principal, reference, "pluses", change, values,
        done=_("The plus is removed."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/institutions")
def add_institution(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    institution_code: Annotated[str, Form(max_length=40)] = "",
    institution_name: Annotated[str, Form(max_length=400)] = "",
    institution_city: Annotated[str, Form(max_length=200)] = "",
    institution_capacity: Annotated[str, Form(max_length=40)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    values = {
        "institution_code": institution_code,
        "institution_name": institution_name,
        "institution_city": institution_city,
        "institution_capacity": institution_capacity,
        "justification": justification,
    }

    def change(procedure: Procedure, actor: str) -> None:
        procedure_institutions.add_institution(
            session, actor=actor, procedure=procedure, code=institution_code,
            name=institution_name, city=institution_city,
            capacity=forms.integer(institution_capacity, "institution_capacity",
                                   _("the number of places"), minimum=1,
                                   maximum=procedure_institutions.MAX_CAPACITY),
            justification=justification,
        )  # fmt: skip

    return _edit(
        request, session, principal, reference, "institutions", change, values,
        done=_("The institution is added."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/institutions/{institution_id}/delete")
def remove_institution(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    institution_id: forms.Id,
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_institutions.remove_institution(
            session, actor=actor, procedure=procedure, institution_id=institution_id,
            justification=justification,
        )  # fmt: skip

    values = {"justification": justification, "row": f"i{institution_id}"}
    return _edit(
        request, session, principal, reference, "institutions", change, values,
        done=_("The institution is removed."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/placement")
def edit_placement(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    preference_deadline: Annotated[str, Form(max_length=40)] = "",
    answer_hours: Annotated[str, Form(max_length=40)] = "",
    last_round: Annotated[str, Form(max_length=40)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    values = {
        "preference_deadline": preference_deadline,
        "answer_hours": answer_hours,
        "last_round": last_round,
        "justification": justification,
    }

    def change(procedure: Procedure, actor: str) -> None:
        procedure_institutions.set_placement(
            session, actor=actor, procedure=procedure,
            preference_deadline=forms.local_datetime(preference_deadline, "preference_deadline"),
            answer_hours=forms.integer(answer_hours, "answer_hours", _("the hours to answer"),
                                       minimum=1, maximum=procedure_institutions.MAX_ANSWER_HOURS),
            last_round=forms.integer(last_round, "last_round", _("the last round"), minimum=1,
                                     maximum=procedure_institutions.MAX_ROUNDS),
            justification=justification, format_time=local_time,
        )  # fmt: skip

    return _edit(
        request, session, principal, reference, "placement", change, values,
        done=_("The placement timeline is saved."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/rubric")
def pin_rubric(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    rubric: Annotated[str, Form(max_length=200)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_editor.pin_rubric(
            session, actor=actor, procedure=procedure, key=rubric, justification=justification
        )

    values = {"justification": justification}
    return _edit(
        request, session, principal, reference, "rubric", change, values,
        done=_("The interview matrix is pinned."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/members/{member_id}")
def update_member(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    member_id: forms.Id,
    function: Annotated[str, Form(max_length=40)] = "",
    training_done: Annotated[bool, Form()] = False,
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_committee.update_member(
            session,
            actor=actor,
            procedure=procedure,
            member_id=member_id,
            function=function,
            training_done=training_done,
            justification=justification,
        )

    values = {"justification": justification, "row": member_id}
    return _edit(
        request, session, principal, reference, "committee", change, values,
        done=_("The committee member is saved."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/members/{member_id}/delete")
def remove_member(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    member_id: forms.Id,
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_committee.remove_member(
            session, actor=actor, procedure=procedure, member_id=member_id,
            justification=justification,
        )  # fmt: skip

    values = {"justification": justification, "row": f"x{member_id}"}
    return _edit(
        request, session, principal, reference, "committee", change, values,
        done=_("The committee member is removed."),
    )  # fmt: skip


def _step_done(action: str, told: int) -> str:
    """What the editor says after a step of the life cycle."""
    if action == "publish_results":
        return ngettext(
            "The results are published; %(num)s applicant was e-mailed.",
            "The results are published; %(num)s applicants were e-mailed.",
            told,
        )
    messages = {
        "publish": _("The procedure is published: it is in the public catalogue."),
        "open": _("The procedure is open for applications."),
        "close": _("Applications are closed."),
        "start_letter_round": _("The letter round has started."),
        "start_interviews": _("The interviews have started."),
        "start_deliberation": _("The deliberation has started."),
        "archive": _("The procedure is archived."),
    }
    return messages.get(action, _("Saved."))


@router.get("/manage/procedures/{reference}/publish-results", name="confirm_results")
def confirm_results(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
) -> Response:
    """The second step of publishing the results: everyone invited is e-mailed."""
    procedure = _managed(session, principal, reference)
    permissions.require(principal, permissions.can_edit_procedure(principal, procedure))
    try:
        letters = conduct_transition.preview(
            session, settings, procedure=procedure, action="publish_results",
            format_time=local_time,
        )  # fmt: skip
    except DomainError as error:
        session.rollback()
        return _editor(
            request, session, principal, procedure, error=error, section="status",
            status_code=error.status_code,
        )  # fmt: skip
    view = scoring_round.view_of(session, principal, procedure, None)
    shown = [letter for letter in letters if view.shows(letter.about)]
    return render(
        request,
        "confirm.html",
        {
            "procedure": procedure,
            "heading": _("Publish the results"),
            "happens": [
                _(
                    "Every invited applicant can read their outcome, their scores per "
                    "criterion with the committee's reasons and, if they were in a draw, its "
                    "record; each is e-mailed the link."
                ),
                _("The figures of the procedure appear on its public page."),
                _(
                    "The procedure moves to the results phase: the outcomes, the ranking and "
                    "the draw stand as they are."
                ),
            ],
            "recipients": len(letters),
            "letter": shown[0] if shown else None,
            "action_url": f"/manage/procedures/{procedure.reference}/transition",
            "fields": {"action": "publish_results"},
            "confirm_label": _("Publish and e-mail the applicants"),
            "cancel_url": f"/manage/procedures/{procedure.reference}#status",
        },
    )


@router.post("/manage/procedures/{reference}/transition")
def transition(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    action: Annotated[str, Form(max_length=40)] = "",
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    if action in conduct_transition.CONFIRMED_STEPS and confirmed != "1":
        # A step that e-mails everyone: first the confirmation, with what will be sent.
        procedure = _managed(session, principal, reference)
        permissions.require(principal, permissions.can_edit_procedure(principal, procedure))
        try:
            conduct_transition.preview(
                session, settings, procedure=procedure, action=action, format_time=local_time
            )
        except DomainError as error:
            session.rollback()
            return _editor(
                request, session, principal, procedure, error=error, section="status",
                status_code=error.status_code,
            )  # fmt: skip
        return RedirectResponse(f"/manage/procedures/{reference}/publish-results", 303)

    def change(procedure: Procedure, actor: str) -> int:
        return conduct_transition.transition(
            session, actor=actor, procedure=procedure, action=action, format_time=local_time,
            settings=settings,
        )  # fmt: skip

    return _edit(
        request, session, principal, reference, "status", change,
        done=lambda told: _step_done(action, told if isinstance(told, int) else 0),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/corrections")
def add_correction(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    subject: Annotated[str, Form(max_length=40)] = "",
    text: Annotated[str, Form(max_length=20_000)] = "",
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    def change(procedure: Procedure, actor: str) -> None:
        procedure_corrections.add_correction(
            session,
            actor=actor,
            procedure=procedure,
            subject=subject,
            text=text,
            justification=justification,
        )

    values = {"subject": subject, "text": text, "justification": justification}
    return _edit(
        request, session, principal, reference, "corrections", change, values,
        done=_("The correction is published."),
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/invitations")
def invite(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    email: Annotated[str, Form(max_length=1000)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    function: Annotated[str, Form(max_length=40)] = "",
    training_done: Annotated[bool, Form()] = False,
    reserve: Annotated[bool, Form()] = False,
    justification: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    procedure = _managed(session, principal, reference)
    permissions.require(principal, permissions.can_invite_to_procedure(principal, procedure))
    values = {
        "email": email,
        "name": name,
        "role": role,
        "function": function,
        "justification": justification,
    }
    try:
        invitation = procedure_committee.invite_to_procedure(
            session,
            settings,
            actor=actor_id(principal.user_id),
            procedure=procedure,
            email=email,
            name=name,
            role=role,
            function=function,
            training_done=training_done,
            reserve=reserve,
            justification=justification,
        )
    except DomainError as error:
        session.rollback()
        procedure = queries.get_procedure(session, reference)
        return _editor(
            request,
            session,
            principal,
            procedure,
            error=error,
            section="committee",
            values=values,
            status_code=error.status_code,
        )
    return _back(
        request,
        procedure,
        "committee",
        _("Invitation sent to %(email)s.", email=invitation.user.email),
    )
