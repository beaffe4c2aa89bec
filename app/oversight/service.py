"""The observer's use cases: append-only remarks, the round report (HTML, PDF, CSV, XLSX)
and its sign-off, after which the round is closed."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlmodel import Session, col, func, select

from app import permissions
from app.accounts.models import User
from app.applications import letter_round
from app.applications.models import Application
from app.applications.vocabulary import ApplicationStatus
from app.audit import checkpoint as checkpoints
from app.audit import service as audit
from app.audit.service import actor_id, record
from app.errors import Conflict, InvalidInput, NotFound
from app.forms import parse_whole_number
from app.i18n import current_language
from app.i18n import gettext as _
from app.lottery import draws as lottery_draws
from app.lottery import results
from app.oversight import xlsx
from app.oversight.models import Remark, SignOff
from app.procedures import queries
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase, ProcedureRole
from app.scoring import deliberation as scoring_deliberation
from app.scoring import listing as paging
from app.scoring import round as scoring_round
from app.scoring.models import MemberConflict

ABOUT = ("", "sheets", "deliberation")
MAX_REMARK = 4000


def remarks(session: Session, procedure: Procedure) -> list[Remark]:
    return list(
        session.execute(
            select(Remark).where(Remark.procedure_id == procedure.id).order_by(col(Remark.id))
        ).scalars()
    )


def remark_numbers(remarks_: list[Remark]) -> dict[int, int]:
    """Remark id -> its number in the procedure, to show which remark a correction corrects."""
    return {r.id: r.number for r in remarks_ if r.id is not None}


@dataclass(frozen=True)
class DeliberationRemarks:
    """What the committee reads of the observer in one applicant's deliberation."""

    about_applicant: list[Remark]
    general: list[Remark]  # about the round as a whole
    numbers: dict[int, int]


def remarks_for_deliberation(
    session: Session, procedure: Procedure, application: Application
) -> DeliberationRemarks:
    """The observer's remarks about this applicant and about the round, not those about
    other applicants (which a member may be conflicted with)."""
    all_remarks = remarks(session, procedure)
    return DeliberationRemarks(
        about_applicant=[r for r in all_remarks if r.application_id == application.id],
        general=[r for r in all_remarks if r.application_id is None],
        numbers=remark_numbers(all_remarks),
    )


def signed_off(session: Session, procedure: Procedure) -> SignOff | None:
    return session.execute(
        select(SignOff).where(SignOff.procedure_id == procedure.id)
    ).scalar_one_or_none()


def add_remark(
    session: Session,
    *,
    procedure: Procedure,
    observer: ProcedureMember,
    text: str,
    application_reference: str = "",
    about: str = "",
    corrects: str = "",
) -> Remark:
    """A remark at any moment; never edited, a correction refers to the remark it corrects."""
    if observer.role != ProcedureRole.OBSERVER:
        raise Conflict(_("Only the observer adds remarks."))
    text = text.strip()
    if len(text) < 3:
        raise InvalidInput(_("Write the remark (at least 3 characters)."), field="text")
    if len(text) > MAX_REMARK:
        raise InvalidInput(
            _("A remark is at most %(count)s characters.", count=MAX_REMARK), field="text"
        )
    if about not in ABOUT:
        raise InvalidInput(_("Choose what the remark is about."), field="about")
    application: Application | None = None
    if application_reference.strip():
        application = letter_round.invited_application(session, procedure, application_reference)
    elif about:
        raise InvalidInput(_("Choose the applicant the remark is about."), field="application")
    corrected: Remark | None = None
    if corrects.strip():
        # The observer names a remark by its number in this procedure, as shown ("#2").
        number = parse_whole_number(corrects.strip().removeprefix("#"), minimum=1)
        corrected = (
            session.execute(
                select(Remark).where(Remark.procedure_id == procedure.id, Remark.number == number)
            ).scalar_one_or_none()
            if number is not None
            else None
        )
        if corrected is None:
            raise InvalidInput(
                _("Remark #%(number)s does not exist in this procedure.", number=corrects[:12]),
                field="corrects",
            )
    assert procedure.id is not None and observer.id is not None
    last = session.execute(
        select(func.max(col(Remark.number))).where(Remark.procedure_id == procedure.id)
    ).scalar_one()
    remark = Remark(
        procedure_id=procedure.id,
        number=(last or 0) + 1,
        application_id=application.id if application else None,
        about=about,
        text=text,
        corrects=corrected.id if corrected else None,
        author_member_id=observer.id,
    )
    session.add(remark)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(observer.user_id),
        action="remark.added",
        subject=f"application:{application.reference}"
        if application
        else f"procedure:{procedure.reference}",
        data={
            "remark": remark.number,
            "about": about or ("applicant" if application else "procedure"),
            "corrects": corrected.number if corrected else None,
            "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        },
    )
    session.commit()
    return remark


# The report --------------------------------------------------------------------------------


@dataclass
class ApplicantReport:
    application: scoring_round.ApplicationFacts
    name: str
    letter_round: list[tuple[str, str]]  # requirements not met, with the reason
    scorers: list[str]
    conflicts: list[tuple[str, str, str]]  # member, relation, declared by
    sheets: list[tuple[str, scoring_round.SheetFacts]]
    outcome: scoring_round.OutcomeFacts | None
    remarks: list[Remark] = field(default_factory=list)
    # The reader must still score this applicant: the sheets and remarks are left out.
    sealed: bool = False
    # criterion id -> the members' range, where the joint level lies outside it
    departures: dict[str, tuple[int, int]] = field(default_factory=dict)


@dataclass
class Report:
    procedure: Procedure
    rubric: Any
    committee: list[tuple[ProcedureMember, User]]
    applicants: list[ApplicantReport]
    not_invited: list[tuple[Application, list[tuple[str, str]]]]
    draws: list[dict[str, Any]]
    result: Any
    remarks: list[Remark]
    remark_numbers: dict[int, int]
    # member id -> the applicants they declared knowing: (reference, relation, later), where
    # later means after their declaration of ties (a conflict found during the round)
    ties: dict[int, list[tuple[str, str, bool]]]
    agreement: list[scoring_deliberation.CriterionFigures]
    chain_head: str
    chain_seq: int
    sign_off: SignOff | None
    # The newest signed checkpoint of the chain (spec: the report carries it), as JSON.
    checkpoint: str | None
    hidden: int = 0  # applicants left out: the reader has a conflict with them
    hidden_references: frozenset[str] = frozenset()
    invited: int = 0  # the invited applicants the reader sees (on every page)
    # On the pages (not the PDF): `applicants` is one page of them, found by name or reference.
    listing: paging.Listing[scoring_round.ApplicationFacts] | None = None


def report(
    session: Session,
    procedure: Procedure,
    view: permissions.RoundView = permissions.EVERYTHING,
    *,
    round_: scoring_round.Round | None = None,
    query: paging.ListQuery | None = None,
) -> Report:
    """The round as `view` lets its reader see it (see permissions.RoundView): without the
    applicants they have a conflict with, and without the other members' sheets for the
    applicants whose own sheet they have not submitted yet. With `query`, the applicants
    are one page of those the reader sees (the figures stay over all of them)."""
    round_ = round_ or scoring_round.load_round(session, procedure)
    members = session.execute(
        select(ProcedureMember, User)
        .join(User, col(User.id) == col(ProcedureMember.user_id))
        .where(ProcedureMember.procedure_id == procedure.id)
        .order_by(col(ProcedureMember.role), col(User.name))
    ).all()
    names = {m.id: u.name for m, u in members}
    all_remarks = remarks(session, procedure)
    remarks_of: dict[int, list[Remark]] = {}
    for remark in all_remarks:
        if remark.application_id is not None:
            remarks_of.setdefault(remark.application_id, []).append(remark)
    applicant_names = round_.applicant_names
    reasons = letter_round.reasons_by_application(session, procedure)
    visible = [a for a in round_.applications if view.shows(a.id)]
    page = (
        paging.paginate(
            visible,
            query,
            text=lambda a: f"{applicant_names.get(a.id or 0, '')} {a.reference}",
            key=lambda a: a.reference,
        )
        if query is not None
        else None
    )
    reported = page.items if page is not None else visible
    scoring_round.read_reasons(session, round_, reported if page is not None else None)
    applicants = []
    for application in reported:
        assert application.id is not None
        sealed = not view.shows_sheets(application.id)
        conflicts = [
            (names.get(member_id, ""), relation, by)
            for member_id, (relation, by) in round_.conflicts.get(application.id, {}).items()
        ]
        outcome = round_.outcomes.get(application.id)
        applicants.append(
            ApplicantReport(
                application=application,
                name=applicant_names.get(application.id, ""),
                letter_round=reasons.get(application.id, []),
                scorers=[round_.name(m) for m in round_.scorers(application)],
                conflicts=conflicts,
                sheets=[]
                if sealed
                else [(names.get(s.member_id, ""), s) for s in round_.submitted(application)],
                outcome=None if sealed else outcome,
                remarks=[] if sealed else remarks_of.get(application.id, []),
                sealed=sealed,
                departures=scoring_deliberation.departures(round_, application, outcome.levels)
                if outcome and not sealed
                else {},
            )
        )
    not_invited = [
        (application, reasons.get(application.id or 0, []))
        for application in letter_round.not_invited(session, procedure)
        if view.shows(application.id)
    ]
    hidden_references = (
        frozenset(
            session.execute(
                select(Application.reference).where(
                    Application.procedure_id == procedure.id,
                    Application.status == ApplicationStatus.SUBMITTED,
                    col(Application.id).in_(view.hidden),
                )
            ).scalars()
        )
        if view.hidden
        else frozenset()
    )
    head = audit.head(session, procedure.reference)
    declared_at = {m.id: m.ties_declared_at for m, _u in members}
    references = {a.id: a.reference for a in round_.applications}
    ties: dict[int, list[tuple[str, str, bool]]] = {}
    for conflict in session.execute(
        select(MemberConflict)
        .where(MemberConflict.procedure_id == procedure.id)
        .order_by(col(MemberConflict.declared_at))
    ).scalars():
        if conflict.application_id not in references or not view.shows(conflict.application_id):
            continue
        declared = declared_at.get(conflict.member_id)
        later = declared is None or conflict.declared_at > declared
        ties.setdefault(conflict.member_id, []).append(
            (references[conflict.application_id], conflict.relation, later)
        )
    return Report(
        procedure=procedure,
        rubric=round_.rubric,
        committee=[(m, u) for m, u in members],
        applicants=applicants,
        not_invited=not_invited,
        draws=lottery_draws.published(session, procedure),
        result=results.final_result(
            session, procedure, results.Standings.load(session, procedure, round_)
        )
        if round_.applications
        else None,
        remarks=[r for r in all_remarks if r.application_id is None],
        remark_numbers=remark_numbers(all_remarks),
        ties=ties,
        agreement=scoring_deliberation.criterion_figures(round_, view.hidden | view.sealed),
        chain_head=head.hash if head else "",
        chain_seq=head.seq if head else 0,
        sign_off=signed_off(session, procedure),
        checkpoint=checkpoints.to_json(cp)
        if (cp := audit.latest_checkpoint(session, procedure.reference))
        else None,
        hidden=len(hidden_references),
        hidden_references=hidden_references,
        invited=len(visible),
        listing=page,
    )


class _Once(dict[Any, Any]):
    """convert(value) of each value asked, worked out once per distinct value."""

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, value: Any) -> Any:
        self[value] = done = self.convert(value)
        return done


def scores_rows(
    session: Session,
    procedure: Procedure,
    view: permissions.RoundView = permissions.EVERYTHING,
    *,
    human: bool = False,
    round_: scoring_round.Round | None = None,
) -> list[list[str]]:
    """Every submitted score and every joint outcome, one row per criterion; as `view`
    lets its reader see them. The sign-off hashes the plain form (stable keys, whatever the
    language); `human` is the export a person reads: column names, the rubric's criterion
    titles and yes/no in the reader's language, and for a member's sheet whether its
    levels are suitable under the rubric's published rule."""
    lines = _scores(
        session, procedure, view, human=human, round_=round_,
        cell=str, number=str, head=list, tail=list,
    )  # fmt: skip
    return cast(list[list[str]], lines)


def _scores(
    session: Session,
    procedure: Procedure,
    view: permissions.RoundView,
    *,
    human: bool,
    round_: scoring_round.Round | None,
    cell: Callable[[str], str],
    number: Callable[[str], str],
    head: Callable[[list[str]], Any],
    tail: Callable[[list[str]], Any],
) -> list[Any]:
    """The rows of scores_rows, each as head(its first two cells) + tail(the other three),
    for an export to write its own lines: every text cell is `cell(text)`, every level
    `number(its digits)` (or of "" for none), and each head and tail is made once, as a
    round has hundreds of thousands of rows and few distinct values (a sheet's head is its
    applicant and scorer; a tail is a criterion, a level and a verdict)."""
    round_ = round_ or scoring_round.load_round(session, procedure)
    rubric = round_.rubric
    language = current_language()
    if human:
        header = [_("Application"), _("Scorer"), _("Criterion"), _("Level"), _("Suitable")]
        committee = _("Committee (joint outcome)")
        title = {c.id: c.name.get(language) for c in rubric.criteria}
        answer = {True: _("Yes"), False: _("No")}
    else:
        header = ["application", "scorer", "criterion", "level", "suitable"]
        committee = "committee"
        title = {c.id: c.id for c in rubric.criteria}
        answer = {True: "yes", False: "no"}
    header, committee = [cell(text) for text in header], cell(committee)
    answer = {given: cell(text) for given, text in answer.items()}
    lines = [head(header[:2]) + tail(header[2:])]
    criteria = [c.id for c in rubric.criteria]
    titles = {c: cell(title[c]) for c in criteria}
    # (criterion, level, verdict) -> the tail of the row
    tails = _Once(lambda key: tail([titles[key[0]], number(str(key[1])), key[2]]))
    minimum = rubric.suitability.minimum_level
    scorer = {member_id: cell(round_.name(member)) for member_id, member in round_.members.items()}
    for application in round_.applications:
        assert application.id is not None
        if not view.shows_sheets(application.id):
            continue
        reference = cell(application.reference)
        for sheet in round_.submitted(application):
            start = head([reference, scorer.get(sheet.member_id, "")])
            levels = sheet.levels
            by_rule = answer[all(levels.get(c, 0) >= minimum for c in criteria)] if human else ""
            lines += [start + tails[c, levels.get(c, ""), by_rule] for c in criteria]
        outcome = round_.outcomes.get(application.id)
        if outcome is not None:
            start = head([reference, committee])
            levels, suitable = outcome.levels, answer[bool(outcome.suitable)]
            lines += [start + tails[c, levels.get(c, ""), suitable] for c in criteria]
    return lines


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, CSV
# injection): a scorer named =HYPERLINK(...) would become a live link in the observer's copy.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def csv_cell(value: str) -> str:
    """The value as text no spreadsheet will run: a leading quote before a formula start
    (numbers stay numbers)."""
    if value.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_field(value: str) -> str:
    """The value as a field of the scores CSV: csv_cell, then quoted as the csv module
    quotes it (RFC 4180; a CR in a cell is quoted), by the module itself."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([csv_cell(value), ""])
    return buffer.getvalue().removesuffix(",\r\n")


def scores_csv(
    session: Session,
    procedure: Procedure,
    view: permissions.RoundView = permissions.EVERYTHING,
    *,
    human: bool = False,
    round_: scoring_round.Round | None = None,
) -> str:
    """The CSV of scores_rows, its fields quoted once per distinct text (csv_field) and
    its lines made of heads and tails made once: what csv.writer writes, in a fraction of
    its time."""
    lines = _scores(
        session, procedure, view, human=human, round_=round_, cell=csv_field, number=str,
        head=lambda cells: ",".join(cells) + ",", tail=lambda cells: ",".join(cells) + "\r\n",
    )  # fmt: skip
    return "".join(lines)


def scores_xlsx(
    session: Session,
    procedure: Procedure,
    view: permissions.RoundView = permissions.EVERYTHING,
    *,
    round_: scoring_round.Round | None = None,
) -> bytes:
    """Levels as numbers; every other cell as a string cell, which Excel and LibreOffice
    never evaluate, whatever it starts with (see app/oversight/xlsx.py)."""

    def text(value: str) -> str:
        return xlsx.text_cell(value, FORMULA_STARTS)

    def level(digits: str) -> str:
        return xlsx.number_cell(int(digits)) if digits.isdecimal() else text(digits)

    rows = _scores(
        session, procedure, view, human=True, round_=round_, cell=text, number=level,
        head="".join, tail="".join,
    )  # fmt: skip
    return xlsx.workbook(_("Scores"), rows)


def check_sign_off(session: Session, *, procedure: Procedure, observer: ProcedureMember) -> None:
    """Refuse a sign-off that cannot be made now, with the reason (its confirmation step
    asks the same)."""
    if observer.role != ProcedureRole.OBSERVER:
        raise Conflict(_("Only the observer signs the round off."))
    if signed_off(session, procedure) is not None:
        raise Conflict(_("This round has been signed off already."))
    if procedure.phase not in (Phase.DELIBERATION, Phase.RESULTS, Phase.ARCHIVED):
        raise Conflict(_("A round is signed off after its interviews and deliberation."))
    missing = scoring_round.outcomes_missing(session, procedure)
    if missing:
        raise Conflict(
            _(
                "Not every outcome is recorded yet (%(references)s); sign off when the round "
                "is complete.",
                references=", ".join(missing),
            )
        )
    if results.draw_missing(session, procedure, missing):
        raise Conflict(_("The draw has not taken place yet; sign off when the round is complete."))


def sign_off(session: Session, *, procedure: Procedure, observer: ProcedureMember) -> SignOff:
    """The observer signs the round off: every outcome recorded, every needed draw held."""
    check_sign_off(session, procedure=procedure, observer=observer)
    head = audit.head(session, procedure.reference)
    content = scores_csv(session, procedure) + (head.hash if head else "")
    assert procedure.id is not None and observer.id is not None
    signed = SignOff(
        procedure_id=procedure.id,
        member_id=observer.id,
        report_sha256=hashlib.sha256(content.encode("utf-8")).hexdigest(),
        chain_head=head.hash if head else "",
    )
    session.add(signed)
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(observer.user_id),
        action="round.signed_off",
        subject=f"procedure:{procedure.reference}",
        data={"report_sha256": signed.report_sha256, "chain_head": signed.chain_head},
    )
    audit.checkpoint(session, procedure.reference)
    session.commit()
    return signed


def observer_of(session: Session, procedure: Procedure, user_id: int | None) -> ProcedureMember:
    member = queries.member_of(session, procedure, user_id)
    if member is None or member.role != ProcedureRole.OBSERVER:
        raise NotFound(_("This page does not exist."))
    return member


def remark_about_label(about: str) -> str:
    labels = {
        "": _("In general"),
        "sheets": _("The score sheets"),
        "deliberation": _("The deliberation"),
    }
    return labels.get(about, about)
