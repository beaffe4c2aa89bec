"""The deliberation: the members' levels side by side, departures from the anchors, the
joint outcome with its reasons, and the round's figures."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from sqlmodel import Session

from app import forms
from app.applications.models import Application
from app.audit.service import actor_id, record
from app.db import utcnow
from app.errors import Conflict, InvalidInput
from app.i18n import current_language
from app.i18n import gettext as _
from app.procedures.models import ProcedureMember
from app.procedures.rubric import Rubric
from app.procedures.vocabulary import Phase
from app.scoring import stats
from app.scoring.models import (
    JointOutcome,
)
from app.scoring.round import ApplicationFacts, Round, is_signed_off, refuse_if_draw_fixes
from app.scoring.sheets import MAX_MOTIVATION, MAX_REASON, MIN_REASON, reasons_digest

# Deliberation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionView:
    id: str
    name: str
    summary: stats.Summary | None
    counts: list[int]


def deliberation_figures(round_: Round, application: ApplicationFacts) -> list[CriterionView]:
    language = current_language()
    sheets = round_.submitted(application)
    result = []
    for criterion in round_.rubric.criteria:
        levels = [s.levels[criterion.id] for s in sheets if criterion.id in s.levels]
        result.append(
            CriterionView(
                criterion.id,
                criterion.name.get(language),
                stats.summarise(levels),
                stats.distribution(levels, round_.rubric.max_level),
            )
        )
    return result


@dataclass(frozen=True)
class CriterionFigures:
    id: str
    name: str
    counts: list[int]
    agreement: stats.Agreement


def criterion_figures(
    round_: Round, hidden: frozenset[int] = frozenset()
) -> list[CriterionFigures]:
    """Per criterion, over every applicant whose sheets are all in (except `hidden`: the
    applicants the viewer has a conflict with): the distribution and Krippendorff's alpha.
    The levels go into one array (criterion × member × applicant, NaN where a member did
    not rate) read in one pass over the sheets: a national round has tens of thousands."""
    language = current_language()
    criteria = {criterion.id: at for at, criterion in enumerate(round_.rubric.criteria)}
    complete = [
        sheets
        for application in round_.applications
        if application.id not in hidden and (sheets := round_.all_sheets(application)) is not None
    ]
    members = sorted({sheet.member_id for sheets in complete for sheet in sheets})
    row = {member: at for at, member in enumerate(members)}
    data = np.full((len(criteria), len(members), len(complete)), np.nan)
    # One sheet's levels per (member, applicant), set in one assignment.
    rows, columns, given = [], [], []
    for column, sheets in enumerate(complete):
        for sheet in sheets:
            rows.append(row[sheet.member_id])
            columns.append(column)
            levels = sheet.levels
            given.append([levels.get(criterion, np.nan) for criterion in criteria])
    if given:
        data[:, rows, columns] = np.array(given, dtype=float).T
    max_level = round_.rubric.max_level
    result = []
    for criterion in round_.rubric.criteria:
        levels = data[criteria[criterion.id]]
        given = levels[~np.isnan(levels)].astype(int)
        counts = np.bincount(given[(given >= 1) & (given <= max_level)], minlength=max_level + 1)
        result.append(
            CriterionFigures(
                criterion.id,
                criterion.name.get(language),
                [int(n) for n in counts[1:]],
                stats.agreement_of(levels, max_level),
            )
        )
    return result


def departures(
    round_: Round, application: ApplicationFacts, levels: Mapping[str, int]
) -> dict[str, tuple[int, int]]:
    """The criteria whose joint level lies outside the range of the members' levels, with
    that range: the joint outcome then contradicts every sheet and must say why."""
    sheets = round_.submitted(application)
    result = {}
    for criterion in round_.rubric.criteria:
        given = [s.levels[criterion.id] for s in sheets if criterion.id in s.levels]
        level = levels.get(criterion.id)
        if given and level is not None and not min(given) <= level <= max(given):
            result[criterion.id] = (min(given), max(given))
    return result


def joint_reasons(
    round_: Round,
    application: Application,
    levels: Mapping[str, int],
    given: Mapping[str, str],
) -> dict[str, str]:
    """The committee's reason per criterion, which the applicant reads beside the level.
    Where the joint level lies outside the members' range the refusal says so first, so
    the chair knows the reason must explain why the committee departed from the sheets."""
    language = current_language()
    unknown = sorted(set(given) - {c.id for c in round_.rubric.criteria})
    if unknown:
        raise InvalidInput(
            _(
                "'%(criterion)s' is not a criterion of this procedure's matrix.",
                criterion=unknown[0][:40],
            )
        )
    outside = departures(round_, application, levels)
    reasons: dict[str, str] = {}
    for criterion in round_.rubric.criteria:
        name = criterion.name.get(language)
        reason = given.get(criterion.id, "").strip()
        if len(reason) > MAX_REASON:
            raise InvalidInput(
                _(
                    "The reason for %(criterion)s is at most %(count)s characters.",
                    criterion=name,
                    count=MAX_REASON,
                ),
                field=f"reason-{criterion.id}",
            )
        if len(reason) < MIN_REASON and criterion.id in outside:
            low, high = outside[criterion.id]
            raise InvalidInput(
                _(
                    "%(criterion)s: the joint level %(level)s lies outside the members' "
                    "levels (%(low)s to %(high)s). Write in the reason for %(criterion)s why "
                    "the committee decided otherwise (at least %(count)s characters).",
                    criterion=name,
                    level=levels[criterion.id],
                    low=low,
                    high=high,
                    count=MIN_REASON,
                ),
                field=f"reason-{criterion.id}",
            )
        reasons[criterion.id] = reason
    for criterion in round_.rubric.criteria:
        if len(reasons[criterion.id]) < MIN_REASON:
            raise InvalidInput(
                _(
                    "Write the committee's reason for %(criterion)s (at least %(count)s "
                    "characters); the applicant reads it beside the score.",
                    criterion=criterion.name.get(language),
                    count=MIN_REASON,
                ),
                field=f"reason-{criterion.id}",
            )
    return reasons


def suitable_under_rule(rubric: Rubric, levels: Mapping[str, int]) -> bool:
    return all(levels[c.id] >= rubric.suitability.minimum_level for c in rubric.criteria)


def record_outcome(
    session: Session,
    *,
    round_: Round,
    application: Application,
    member: ProcedureMember,
    levels: Mapping[str, str],
    suitable: str,
    motivation: str,
    pluses: list[str] | None = None,
    published_pluses: list[int] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> JointOutcome:
    """The chair records what the committee agreed: a level per criterion with its reason,
    suitable or not (as the published suitability rule says), and a motivation the
    applicant will read. A level outside the members' range must say why (joint_reasons)."""
    procedure, rubric = round_.procedure, round_.rubric
    language = current_language()
    if procedure.phase not in (Phase.INTERVIEWS, Phase.DELIBERATION):
        raise Conflict(_("The joint outcome is recorded during the interviews and deliberation."))
    if is_signed_off(session, procedure):
        raise Conflict(_("The observer has signed this round off; it is closed."))
    refuse_if_draw_fixes(session, procedure)
    if not round_.all_in(application):
        raise Conflict(
            _(
                "Not every sheet is in: %(done)s of %(total)s submitted.",
                done=len(round_.submitted(application)),
                total=len(round_.scorers(application)),
            )
        )
    unknown = sorted(set(levels) - {c.id for c in rubric.criteria})
    if unknown:
        raise InvalidInput(
            _(
                "'%(criterion)s' is not a criterion of this procedure's matrix.",
                criterion=unknown[0][:40],
            )
        )
    agreed: dict[str, int] = {}
    for criterion in rubric.criteria:
        level = forms.parse_whole_number(
            levels.get(criterion.id, ""), minimum=1, maximum=rubric.max_level
        )
        if level is None:
            raise InvalidInput(
                _(
                    "Choose the committee's score for %(criterion)s (1 to %(max)s).",
                    criterion=criterion.name.get(language),
                    max=rubric.max_level,
                ),
                field=f"level-{criterion.id}",
            )
        agreed[criterion.id] = level
    why = joint_reasons(round_, application, agreed, reasons or {})
    if suitable not in ("yes", "no"):
        raise InvalidInput(_("Choose suitable or not suitable."), field="suitable")
    by_rule = suitable_under_rule(rubric, agreed)
    if (suitable == "yes") != by_rule:
        raise InvalidInput(
            _(
                "The published rule says: %(rule)s With these scores the applicant is %(verdict)s.",
                rule=rubric.suitability.description.get(language),
                verdict=_("suitable") if by_rule else _("not suitable"),
            ),
            field="suitable",
        )
    motivation = motivation.strip()
    if len(motivation) < MIN_REASON:
        raise InvalidInput(
            _(
                "Write a motivation of at least %(count)s characters; the applicant reads it.",
                count=MIN_REASON,
            ),
            field="motivation",
        )
    if len(motivation) > MAX_MOTIVATION:
        raise InvalidInput(
            _("The motivation is at most %(count)s characters.", count=MAX_MOTIVATION),
            field="motivation",
        )
    allowed = set(published_pluses or [])
    parsed = [forms.parse_whole_number(p, minimum=1) for p in (pluses or [])]
    chosen = sorted({p for p in parsed if p is not None})
    if len(chosen) != len(set(pluses or [])) or not set(chosen) <= allowed:
        raise InvalidInput(_("Choose only pluses this procedure published."), field="pluses")
    assert application.id is not None and member.id is not None and procedure.id is not None
    known = round_.outcomes.get(application.id)
    revised = known is not None
    # The round of one applicant holds the ORM object; a whole round's read-only row is
    # looked up (the demo records every outcome over one round).
    outcome = (
        known
        if known is None or isinstance(known, JointOutcome)
        else session.get(JointOutcome, known.id)
    )
    if outcome is None:
        outcome = JointOutcome(
            procedure_id=procedure.id,
            application_id=application.id,
            suitable=by_rule,
            motivation=motivation,
            recorded_by=member.id,
        )
        session.add(outcome)
    outcome.levels, outcome.suitable, outcome.motivation = agreed, by_rule, motivation
    outcome.pluses = chosen
    outcome.reasons = why
    outcome.recorded_by, outcome.recorded_at = member.id, utcnow()
    round_.outcomes[application.id] = outcome
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(member.user_id),
        action="outcome.revised" if revised else "outcome.recorded",
        subject=f"application:{application.reference}",
        data={
            "levels": dict(sorted(agreed.items())),
            "suitable": by_rule,
            "pluses": chosen,
            "motivation_sha256": hashlib.sha256(motivation.encode("utf-8")).hexdigest(),
            # Like the sheets' reasons: personal data that erasure must reach, so a hash.
            "reasons_sha256": reasons_digest(why),
            "outside_range": sorted(departures(round_, application, agreed)),
        },
    )
    # Asked again holding the chain's head: a draw announced meanwhile still wins.
    refuse_if_draw_fixes(session, procedure)
    session.commit()
    return outcome
