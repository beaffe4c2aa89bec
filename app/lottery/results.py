"""The final ranking with the reserve list, the draws it needs, declined places, and the
results told to each applicant.

From its announcement a draw fixes the ranking: outcomes, pluses and places do not change
until it is voided with a public reason, and a draw whose group is no longer the tie is
never used for the results."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.models import User
from app.accounts.service import user_by_id
from app.applications import letter_round
from app.applications.disclosure import shown_groups
from app.applications.models import Application, DiversityResponse
from app.applications.vocabulary import ApplicationStatus
from app.audit.service import checkpoint_note, record
from app.config import Settings
from app.errors import Conflict
from app.i18n import gettext as _
from app.i18n import ngettext
from app.lottery import ranking as rankinglib
from app.lottery.draws import candidates, live, rank, with_contributors
from app.lottery.models import DeclinedPlace, Draw, DrawContributor
from app.lottery.vocabulary import DrawStatus
from app.procedures.models import Procedure
from app.procedures.queries import is_cluster
from app.procedures.vocabulary import Phase
from app.scoring import round as scoring_round
from app.scoring.models import JointOutcome


@dataclass(frozen=True)
class Result:
    """The final order: placed first, then the reserve list; a declined place goes to the
    next on the reserve list."""

    places: list[str]
    reserve: list[str]
    draw: Draw | None
    declined: list[str]


def declined_references(session: Session, procedure: Procedure) -> list[str]:
    return list(
        session.execute(
            select(Application.reference)
            .join(DeclinedPlace, col(DeclinedPlace.application_id) == col(Application.id))
            .where(DeclinedPlace.procedure_id == procedure.id)
            .order_by(col(DeclinedPlace.id))
        ).scalars()
    )


@dataclass
class Standings:
    """The ranking as one request reads it: the round, its candidates ranked under the
    published rule, the procedure's draws and the declined places, each read once. Every
    function below takes one (or loads it), so a page never loads the round twice."""

    round: scoring_round.Round
    people: list[rankinglib.Candidate]
    ranked: rankinglib.Ranking
    draws: list[Draw]
    contributors: dict[int | None, list[DrawContributor]]  # by draw id
    declined: list[str]

    @classmethod
    def load(
        cls, session: Session, procedure: Procedure, round_: scoring_round.Round | None = None
    ) -> Standings:
        round_ = round_ or scoring_round.load_round(session, procedure)
        people = candidates(session, procedure, round_)
        every, parties = with_contributors(session, procedure)
        return cls(
            round_,
            people,
            rank(session, procedure, people),
            every,
            parties,
            declined_references(session, procedure),
        )

    @property
    def current(self) -> Draw | None:
        """The tie draw that is not void, if any (there is at most one)."""
        return live(self.draws)


def matches(draw: Draw, ranked: rankinglib.Ranking) -> bool:
    """The draw was held between exactly the group now tied at the last place, for the
    places now left for it."""
    return sorted(draw.candidates) == sorted(ranked.tie) and draw.places == ranked.tie_places


def final_result(
    session: Session, procedure: Procedure, standings: Standings | None = None
) -> Result | None:
    """None while a needed draw has not been drawn, or when the draw no longer matches the
    tied group (then nobody's place may rest on it)."""
    standings = standings or Standings.load(session, procedure)
    ranked = standings.ranked
    below = [ref for group in ranked.below for ref in group]
    drawn = None
    places, reserve = ranked.placed, below
    if ranked.needs_draw:
        drawn = standings.current
        if drawn is None or drawn.status != DrawStatus.DRAWN or not matches(drawn, ranked):
            return None
        places, reserve = ranked.placed + drawn.winners, drawn.reserve + below
    declined = standings.declined
    kept = [ref for ref in places if ref not in declined]
    waiting = [ref for ref in reserve if ref not in declined]
    moved_up = waiting[: len(places) - len(kept)]
    return Result(kept + moved_up, waiting[len(moved_up) :], drawn, declined)


def draw_problems(
    session: Session, procedure: Procedure, standings: Standings | None = None
) -> list[str]:
    """Why the standing draw cannot be used for the results: it no longer matches the group
    tied at the last place, or the ranking has no tie any more. Empty when all is well."""
    if procedure.rubric_hash is None:
        return []
    standings = standings or Standings.load(session, procedure)
    current = standings.current
    if current is None:
        return []
    ranked = standings.ranked
    if current.status != DrawStatus.DRAWN:
        if ranked.needs_draw:
            return []  # the draw is still under way: draw_missing says so
        return [
            _(
                "Draw %(draw)s has not been drawn and no draw is needed any more: void it "
                "with a reason.",
                draw=current.draw_id,
            )
        ]
    if not ranked.needs_draw:
        return [
            ngettext(
                "Draw %(draw)s was held between %(drawn)s for %(num)s place, but the "
                "ranking now has no tie at the last place. Void the draw with a reason.",
                "Draw %(draw)s was held between %(drawn)s for %(num)s places, but the "
                "ranking now has no tie at the last place. Void the draw with a reason.",
                current.places,
                draw=current.draw_id,
                drawn=", ".join(current.candidates),
            )
        ]
    if not matches(current, ranked):
        return [
            _(
                "Draw %(draw)s was held between %(drawn)s for %(places)s, but the candidates "
                "tied at the last place are now %(tie)s for %(tie_places)s. Void the draw with "
                "a reason and hold a new one.",
                draw=current.draw_id,
                drawn=", ".join(current.candidates),
                places=ngettext("%(num)s place", "%(num)s places", current.places),
                tie=", ".join(ranked.tie),
                tie_places=ngettext("%(num)s place", "%(num)s places", ranked.tie_places),
            )
        ]
    return []


def decline(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    procedure: Procedure,
    application: Application,
) -> str | None:
    """Record that a placed candidate declined; the next on the reserve list is offered the
    place (and told). Returns that candidate's reference, if there is one."""
    if procedure.phase != Phase.RESULTS:
        raise Conflict(_("A declined place is recorded after the results are published."))
    if is_cluster(session, procedure):
        raise Conflict(_("In a cluster the candidate declines the offer online, in the placement."))
    before = final_result(session, procedure)
    if before is None or application.reference not in before.places:
        raise Conflict(_("Only a candidate who has a place can decline it."))
    assert procedure.id is not None and application.id is not None
    session.add(DeclinedPlace(procedure_id=procedure.id, application_id=application.id))
    session.flush()
    after = final_result(session, procedure)
    assert after is not None
    offered = next((ref for ref in after.places if ref not in before.places), None)
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="place.declined",
        subject=f"application:{application.reference}",
        data={"offered_to": offered},
    )
    if offered:
        moved = session.execute(
            select(Application).where(Application.reference == offered)
        ).scalar_one()
        user = user_by_id(session, moved.applicant_id)
        if user is not None:
            mail.send(
                session,
                settings,
                to=user.email,
                subject=_("A training place for you: %(procedure)s", procedure=procedure.title),
                body=_(
                    "Dear %(name)s,\n\nA place in %(procedure)s was declined. You are next on "
                    "the reserve list, so the place is offered to you. See %(url)s",
                    name=user.name,
                    procedure=procedure.title,
                    url=f"{settings.base_url}/applications/{offered}#result",
                )
                + checkpoint_note(session, settings.base_url, procedure.reference, sign=True),
            )
    session.commit()
    return offered


@dataclass(frozen=True)
class GroupOutcome:
    answer: str
    applicants: int
    invited: int
    suitable: int
    placed: int


def outcomes_by_group(
    session: Session, procedure: Procedure, standings: Standings | None = None
) -> dict[str, list[GroupOutcome]] | None:
    """Per question of the voluntary questionnaire, how outcomes compare between the groups
    that answered; only groups of at least five applicants are shown (smaller ones could be
    recognised), and nothing before the results are published."""
    if procedure.phase not in (Phase.RESULTS, Phase.ARCHIVED):
        return None
    rows = session.execute(
        select(DiversityResponse, Application)
        .join(Application, col(Application.id) == col(DiversityResponse.application_id))
        .where(DiversityResponse.procedure_id == procedure.id)
    ).all()
    standings = standings or Standings.load(session, procedure)
    result = final_result(session, procedure, standings)
    placed = set(result.places) if result else set()
    suitable = {c.reference for c in standings.people if c.suitable}
    summary: dict[str, list[GroupOutcome]] = {}
    for question in letter_round.QUESTIONS:
        groups: dict[str, list[Application]] = {}
        for response, application in rows:
            groups.setdefault(getattr(response, question) or "unanswered", []).append(application)
        # Complementary suppression: a small group, and the next smallest if it would be
        # the only one hidden, is left out (app/applications/disclosure.py).
        visible = shown_groups({answer: len(members) for answer, members in groups.items()})
        shown = [
            GroupOutcome(
                answer,
                len(members),
                sum(1 for a in members if a.letter_round_outcome == letter_round.INVITED),
                sum(1 for a in members if a.reference in suitable),
                sum(1 for a in members if a.reference in placed),
            )
            for answer, members in sorted(groups.items())
            if answer in visible
        ]
        if shown:
            summary[question] = shown
    return summary


def draw_missing(
    session: Session,
    procedure: Procedure,
    outcomes_missing: tuple[str, ...],
    standings: Standings | None = None,
) -> bool:
    """A draw is needed for the last place and has not taken place (asked only once every
    outcome is in: the caller has the missing ones from scoring_round.round_facts already)."""
    if procedure.phase != Phase.DELIBERATION or procedure.rubric_hash is None:
        return False
    if outcomes_missing:
        return False
    return final_result(session, procedure, standings) is None


@dataclass(frozen=True)
class ApplicantResult:
    """What an applicant reads once the results are published."""

    outcome: JointOutcome
    standing: str  # placed, reserve, not_placed, not_suitable
    reserve_position: int | None
    draw: Draw | None


def applicant_result(
    session: Session,
    procedure: Procedure,
    application: Application,
    standings: Standings | None = None,
) -> ApplicantResult | None:
    if procedure.phase not in (Phase.RESULTS, Phase.ARCHIVED) or application.id is None:
        return None
    outcome = session.execute(
        select(JointOutcome).where(JointOutcome.application_id == application.id)
    ).scalar_one_or_none()
    if outcome is None:
        return None
    result = final_result(session, procedure, standings)
    drawn = (
        result.draw
        if result and result.draw and application.reference in result.draw.candidates
        else None
    )
    if not outcome.suitable:
        return ApplicantResult(outcome, "not_suitable", None, None)
    if result is None:
        return ApplicantResult(outcome, "not_placed", None, None)
    if application.reference in result.declined:
        return ApplicantResult(outcome, "declined", None, drawn)
    if application.reference in result.places:
        return ApplicantResult(outcome, "placed", None, drawn)
    if application.reference in result.reserve:
        position = result.reserve.index(application.reference) + 1
        return ApplicantResult(outcome, "reserve", position, drawn)
    return ApplicantResult(outcome, "not_placed", None, drawn)


def result_letters(session: Session, settings: Settings, procedure: Procedure) -> list[mail.Letter]:
    """The mail every invited applicant gets when the results are published: that their
    result can be read, with the link."""
    # The invited applicants only, not the whole round with its sheets: a letter needs no
    # score; their reference and account's address and name, not the ORM objects.
    invited = session.execute(
        select(col(Application.id), col(Application.reference), col(User.email), col(User.name))
        .join(User, col(User.id) == col(Application.applicant_id))
        .where(
            col(Application.procedure_id) == procedure.id,
            col(Application.status) == ApplicationStatus.SUBMITTED,
            col(Application.letter_round_outcome) == letter_round.INVITED,
        )
        .order_by(col(Application.reference))
    ).all()
    letters = []
    for application_id, reference, email, name in invited:
        letters.append(
            mail.Letter(
                to=email,
                subject=_("Result: %(procedure)s", procedure=procedure.title),
                body=_(
                    "Dear %(name)s,\n\nThe result of %(procedure)s is published. Read your "
                    "outcome, your scores per criterion with the committee's motivation and, "
                    "if you were in a draw, its record (which you can verify yourself) at "
                    "%(url)s",
                    name=name,
                    procedure=procedure.title,
                    url=f"{settings.base_url}/applications/{reference}#result",
                ),
                about=application_id,
            )
        )
    return letters


def tell_results(session: Session, settings: Settings, procedure: Procedure) -> int:
    """E-mail every invited applicant that their result can be read; how many were told."""
    letters = result_letters(session, settings, procedure)
    # The publication is signed (the phase change): every letter carries that checkpoint.
    note = checkpoint_note(session, settings.base_url, procedure.reference, sign=True)
    for letter in letters:
        mail.deliver(session, settings, replace(letter, body=letter.body + note))
    return len(letters)


def public_figures(
    session: Session, procedure: Procedure, standings: Standings | None = None
) -> dict[str, int] | None:
    """Aggregate figures for the public page, once the results are published."""
    if procedure.phase not in (Phase.RESULTS, Phase.ARCHIVED):
        return None
    applied = session.execute(
        select(func.count())
        .select_from(Application)
        .where(
            Application.procedure_id == procedure.id,
            # Who withdrew is no applicant any more.
            Application.status == "submitted",
        )
    ).scalar_one()
    standings = standings or Standings.load(session, procedure)
    round_, ranked, current = standings.round, standings.people, standings.current
    drawn = current.candidates if current and current.status == DrawStatus.DRAWN else []
    # Erased applications (after the retention period) still count, anonymously.
    erased = procedure.erased_counts or {}
    return {
        "applicants": int(applied) + erased.get("submitted", 0),
        "invited": len(round_.applications) + erased.get("invited", 0),
        "suitable": sum(1 for c in ranked if c.suitable) + erased.get("suitable", 0),
        "places": procedure.places,
        "drawn": len(drawn),
    }
