"""The words a procedure's stored values are spelled in: its phases, the kinds of
requirement and plus, the roles in its committee. Plain enums, no database."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """The life cycle of a procedure, in order."""

    DRAFT = "draft"
    PUBLISHED = "published"
    OPEN = "open"
    CLOSED = "closed"
    LETTER_ROUND = "letter_round"
    INTERVIEWS = "interviews"
    DELIBERATION = "deliberation"
    RESULTS = "results"
    ARCHIVED = "archived"


class RequirementKind(StrEnum):
    MINIMUM = "minimum"  # a hard requirement, checked per application in the letter round
    CRITERION = "criterion"  # weighed in the letter round, not a gate


class PlusKind(StrEnum):
    PHD = "phd"
    ANIOS = "anios"
    REGIONAL = "regional"
    LANGUAGES = "languages"
    OTHER = "other"


class ProcedureRole(StrEnum):
    MEMBER = "member"
    CHAIR = "chair"
    OBSERVER = "observer"


class RankingRule(StrEnum):
    """The published rule that orders the suitable candidates (app/lottery/ranking.py)."""

    # Everyone found suitable is equal; published pluses count only between them; a verifiable
    # lottery orders those still tied at the cut.
    LOTTERY_AMONG_SUITABLE = "lottery_among_suitable"
    # By weighted total of the joint levels, pluses among equal totals, a lottery at the cut.
    SCORE_THEN_LOTTERY = "score_then_lottery_at_cut"
