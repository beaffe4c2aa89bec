"""The letter round: per application and per minimum requirement met or not met, with the
reason when not; everyone who meets all is invited, and every applicant is told why."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from sqlmodel import Session, col, func, or_, select

from app.accounts import mail
from app.accounts.models import User
from app.applications import disclosure
from app.applications.disclosure import shown_groups
from app.applications.models import Application, Declaration, DiversityResponse, LetterDecision
from app.applications.vocabulary import ApplicationStatus
from app.audit.service import actor_id, checkpoint_note, record
from app.config import Settings
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import gettext as _
from app.i18n import ngettext
from app.procedures.models import Procedure, ProcedureMember, Requirement
from app.procedures.vocabulary import Phase, RequirementKind

INVITED = "invited"
NOT_INVITED = "not_invited"
SMALLEST_GROUP = disclosure.SMALLEST_GROUP


def submitted(session: Session, procedure: Procedure) -> list[tuple[Application, User]]:
    rows = session.execute(
        select(Application, User)
        .join(User, col(User.id) == col(Application.applicant_id))
        .where(
            Application.procedure_id == procedure.id,
            Application.status == ApplicationStatus.SUBMITTED,
        )
        .order_by(col(Application.reference))
    ).all()
    return [(application, user) for application, user in rows]


def not_invited(session: Session, procedure: Procedure) -> list[Application]:
    """The submitted applications the letter round did not invite (or has not yet), by
    reference: without the invited ones, of which a national round has thousands."""
    return list(
        session.execute(
            select(Application)
            .where(
                Application.procedure_id == procedure.id,
                Application.status == ApplicationStatus.SUBMITTED,
                or_(
                    col(Application.letter_round_outcome).is_(None),
                    col(Application.letter_round_outcome) != INVITED,
                ),
            )
            .order_by(col(Application.reference))
        ).scalars()
    )


def minimum_requirements(session: Session, procedure: Procedure) -> list[Requirement]:
    return list(
        session.execute(
            select(Requirement)
            .where(
                Requirement.procedure_id == procedure.id,
                Requirement.kind == RequirementKind.MINIMUM,
            )
            .order_by(col(Requirement.position), col(Requirement.id))
        ).scalars()
    )


def decisions(session: Session, procedure: Procedure) -> dict[tuple[int, int], LetterDecision]:
    rows = session.execute(
        select(LetterDecision)
        .join(Application, col(Application.id) == col(LetterDecision.application_id))
        .where(Application.procedure_id == procedure.id)
    ).scalars()
    return {(row.application_id, row.requirement_id): row for row in rows}


def undecided(session: Session, procedure: Procedure) -> int:
    """Submitted applications that still lack a decision on some minimum requirement."""
    return LetterRound.load(session, procedure).undecided


@dataclass
class LetterRound:
    """What the letter round's page shows, read once: the submitted applications with their
    applicants, the minimum requirements and the decisions made on them."""

    submitted: list[tuple[Application, User]]
    requirements: list[Requirement]
    decisions: dict[tuple[int, int], LetterDecision]

    @classmethod
    def load(cls, session: Session, procedure: Procedure) -> LetterRound:
        return cls(
            submitted(session, procedure),
            minimum_requirements(session, procedure),
            decisions(session, procedure),
        )

    @property
    def undecided(self) -> int:
        return sum(
            any((application.id, r.id) not in self.decisions for r in self.requirements)
            for application, _user in self.submitted
        )

    @property
    def unpublished(self) -> int:
        return sum(application.letter_round_outcome is None for application, _u in self.submitted)


def unpublished(session: Session, procedure: Procedure) -> int:
    """The submitted applications whose letter-round result is not published yet: counted
    in the database (as `submitted` reads them: those with their applicant's account)."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Application)
            .join(User, col(User.id) == col(Application.applicant_id))
            .where(
                Application.procedure_id == procedure.id,
                Application.status == ApplicationStatus.SUBMITTED,
                col(Application.letter_round_outcome).is_(None),
            )
        ).scalar_one()
    )


def decide(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    application: Application,
    verdicts: dict[int, tuple[str, str]],
) -> None:
    """Record met / not met per minimum requirement; a "not met" needs its reason."""
    if procedure.phase != Phase.LETTER_ROUND:
        raise Conflict(_("Decisions are made during the letter round."))
    if (
        application.procedure_id != procedure.id
        or application.status != ApplicationStatus.SUBMITTED
    ):
        raise NotFound(_("This application is not in this letter round."))
    if application.letter_round_outcome is not None:
        raise Conflict(_("The letter-round result has been published; it can no longer change."))
    requirements = minimum_requirements(session, procedure)
    # This application's decisions only: reading the whole procedure's on every call made
    # the letter round quadratic in the number of applicants.
    made = {
        (row.application_id, row.requirement_id): row
        for row in session.execute(
            select(LetterDecision).where(LetterDecision.application_id == application.id)
        ).scalars()
    }
    outcome: dict[str, bool] = {}
    for requirement in requirements:
        assert requirement.id is not None and application.id is not None
        verdict, reason = verdicts.get(requirement.id, ("", ""))
        if verdict not in ("met", "not_met"):
            raise InvalidInput(
                _("Say for every requirement whether it is met."), field=f"met-{requirement.id}"
            )
        reason = reason.strip()
        if verdict == "not_met" and not reason:
            raise InvalidInput(
                _("Give the reason why “%(requirement)s” is not met; the applicant reads it.",
                  requirement=requirement.text),
                field=f"reason-{requirement.id}",
            )  # fmt: skip
        if len(reason) > 2000:
            raise InvalidInput(
                _("A reason is at most 2000 characters."), field=f"reason-{requirement.id}"
            )
        row = made.get((application.id, requirement.id))
        if row is None:
            row = LetterDecision(
                application_id=application.id, requirement_id=requirement.id, met=True
            )
            session.add(row)
        row.met = verdict == "met"
        row.reason = reason if verdict == "not_met" else ""
        outcome[str(requirement.id)] = row.met
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="letter_round.decided",
        subject=f"application:{application.reference}",
        data={"met": outcome},
    )
    session.commit()


@dataclass(frozen=True)
class Outcome:
    """One applicant's letter-round result as it will be published, with their mail."""

    application: Application
    invited: bool
    letter: mail.Letter


def _outcomes(session: Session, settings: Settings, procedure: Procedure) -> list[Outcome]:
    """Everyone whose result is not published yet: invited when they meet every minimum
    requirement, with the mail that tells them why. Refused while it cannot be published."""
    if procedure.phase != Phase.LETTER_ROUND:
        raise Conflict(_("The letter-round result is published during the letter round."))
    missing = undecided(session, procedure)
    if missing:
        raise Conflict(
            ngettext(
                "%(num)s application still lacks a decision.",
                "%(num)s applications still lack a decision.",
                missing,
            )
        )
    requirements = {r.id: r for r in minimum_requirements(session, procedure)}
    failures: dict[int, list[tuple[str, str]]] = {}
    for (application_id, requirement_id), row in decisions(session, procedure).items():
        if not row.met and requirement_id in requirements:
            failures.setdefault(application_id, []).append(
                (requirements[requirement_id].text, row.reason)
            )
    outcomes = []
    for application, user in submitted(session, procedure):
        if application.letter_round_outcome is not None:
            continue
        assert application.id is not None
        failed = failures.get(application.id, [])
        letter = _letter(settings, procedure, application, user, failed)
        outcomes.append(Outcome(application, not failed, letter))
    return outcomes


@dataclass(frozen=True)
class Preview:
    """What publishing the letter-round result will do, for its confirmation step."""

    invited: int
    not_invited: int
    letters: list[mail.Letter]


def preview(session: Session, settings: Settings, procedure: Procedure) -> Preview:
    """The confirmation step's figures and mails; refused as publishing would be."""
    outcomes = _outcomes(session, settings, procedure)
    invited = sum(1 for outcome in outcomes if outcome.invited)
    return Preview(invited, len(outcomes) - invited, [o.letter for o in outcomes])


def publish(session: Session, settings: Settings, *, actor: str, procedure: Procedure) -> int:
    """Invite everyone who meets all minimum requirements; tell everyone, with the reasons.
    Returns how many were e-mailed."""
    counts: Counter[str] = Counter()
    outcomes = _outcomes(session, settings, procedure)
    for outcome in outcomes:
        application = outcome.application
        application.letter_round_outcome = INVITED if outcome.invited else NOT_INVITED
        counts[application.letter_round_outcome] += 1
        if outcome.invited:
            _record_declared_conflicts(session, procedure, application)
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="letter_round.published",
        subject=f"procedure:{procedure.reference}",
        data={"invited": counts[INVITED], "not_invited": counts[NOT_INVITED]},
    )
    # Signed with the result in it; every letter carries that checkpoint.
    note = checkpoint_note(session, settings.base_url, procedure.reference, sign=True)
    for outcome in outcomes:
        mail.deliver(session, settings, replace(outcome.letter, body=outcome.letter.body + note))
    session.commit()
    return len(outcomes)


def _record_declared_conflicts(
    session: Session, procedure: Procedure, application: Application
) -> None:
    """The applicant's own declarations take effect for the interviews: each is a conflict
    of interest of that member with this applicant, recorded as such."""
    rows = session.execute(
        select(Declaration, ProcedureMember)
        .join(ProcedureMember, col(ProcedureMember.id) == col(Declaration.member_id))
        .where(Declaration.application_id == application.id)
        .order_by(col(Declaration.id))
    ).all()
    for declaration, member in rows:
        record(
            session,
            chain=procedure.reference,
            actor=actor_id(application.applicant_id),
            action="conflict.declared",
            subject=f"application:{application.reference}",
            data={
                "member": f"user:{member.user_id}",
                "relation": declaration.relation,
                "declared_by": "applicant",
            },
        )


def _letter(
    settings: Settings,
    procedure: Procedure,
    application: Application,
    user: User,
    failed: list[tuple[str, str]],
) -> mail.Letter:
    url = f"{settings.base_url}/applications/{application.reference}"
    if failed:
        reasons = "\n".join(f"- {text}: {reason}" for text, reason in failed)
        body = _(
            "Dear %(name)s,\n\nYour application %(reference)s for %(procedure)s does not "
            "meet these minimum requirements, so you are not invited to an interview:\n"
            "%(reasons)s\n\nSee %(url)s",
            name=user.name, reference=application.reference, procedure=procedure.title,
            reasons=reasons, url=url,
        )  # fmt: skip
    else:
        body = _(
            "Dear %(name)s,\n\nYour application %(reference)s for %(procedure)s meets every "
            "minimum requirement: you are invited to an interview. See %(url)s",
            name=user.name, reference=application.reference, procedure=procedure.title, url=url,
        )  # fmt: skip
    return mail.Letter(
        to=user.email,
        subject=_("Letter round %(procedure)s", procedure=procedure.title),
        body=body,
        about=application.id,
    )


def reasons_by_application(
    session: Session, procedure: Procedure
) -> dict[int, list[tuple[str, str]]]:
    """`reasons_for` of every application of the procedure, in one query."""
    rows = session.execute(
        select(LetterDecision, Requirement)
        .join(Requirement, col(Requirement.id) == col(LetterDecision.requirement_id))
        .where(Requirement.procedure_id == procedure.id, LetterDecision.met == False)  # noqa: E712
        .order_by(col(LetterDecision.id))
    ).all()
    found: dict[int, list[tuple[str, str]]] = {}
    for decision, requirement in rows:
        found.setdefault(decision.application_id, []).append((requirement.text, decision.reason))
    return found


def reasons_for(session: Session, application: Application) -> list[tuple[str, str]]:
    """What the applicant reads: each requirement not met, with its reason."""
    rows = session.execute(
        select(LetterDecision, Requirement)
        .join(Requirement, col(Requirement.id) == col(LetterDecision.requirement_id))
        .where(LetterDecision.application_id == application.id, LetterDecision.met == False)  # noqa: E712
    ).all()
    return [(requirement.text, decision.reason) for decision, requirement in rows]


QUESTIONS = ("gender", "migration_background", "first_generation")


def diversity_summary(session: Session, procedure: Procedure) -> dict[str, list[tuple[str, str]]]:
    """Counts per answer per question, of the groups that may be shown (disclosure): a group
    smaller than five is left out, and so is the next smallest when it would stand alone."""
    rows = list(
        session.execute(
            select(DiversityResponse).where(DiversityResponse.procedure_id == procedure.id)
        ).scalars()
    )
    summary: dict[str, list[tuple[str, str]]] = {}
    for question in QUESTIONS:
        counts = Counter(getattr(row, question) or "unanswered" for row in rows)
        summary[question] = [(answer, str(count)) for answer, count in shown_groups(counts).items()]
    return summary


def invited_applications(session: Session, procedure: Procedure) -> list[Application]:
    """Every applicant invited to this procedure's interviews, by reference."""
    return list(
        session.execute(
            select(Application)
            .where(
                Application.procedure_id == procedure.id,
                Application.status == ApplicationStatus.SUBMITTED,
                Application.letter_round_outcome == INVITED,
            )
            .order_by(col(Application.reference))
        ).scalars()
    )


def invited_application(session: Session, procedure: Procedure, reference: str) -> Application:
    """An applicant invited to this procedure's interviews; anything else does not exist."""
    application = session.execute(
        select(Application).where(
            Application.reference == reference,
            Application.procedure_id == procedure.id,
            Application.status == ApplicationStatus.SUBMITTED,
            Application.letter_round_outcome == INVITED,
        )
    ).scalar_one_or_none()
    if application is None:
        raise NotFound(_("This page does not exist."))
    return application
