"""The guideline check and the life cycle, on plain facts: every check, every transition."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.procedures import checks, lifecycle
from app.procedures.checks import (
    MemberFacts,
    PlusFacts,
    ProcedureFacts,
    RequirementFacts,
    Severity,
)
from app.procedures.vocabulary import Phase

NOW = datetime(2027, 1, 10, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)

COMMITTEE = (
    MemberFacts("chair", "opleider", True, "", True),
    MemberFacts("member", "staff", True, "", True),
    MemberFacts("member", "aios", True, "", True),
    MemberFacts("observer", "", True, "", True),
)


def good() -> ProcedureFacts:
    return ProcedureFacts(
        opens_at=NOW + DAY,
        closes_at=NOW + 30 * DAY,
        letter_round_result_at=NOW + 40 * DAY,
        interview_days=((NOW + 50 * DAY).date().isoformat(), (NOW + 51 * DAY).date().isoformat()),
        final_result_at=NOW + 60 * DAY,
        method="Een STARR-gesprek met drie commissieleden.",
        method_en="A STARR interview with three committee members.",
        quorum=3,
        ranking_rule="lottery_among_suitable",
        retention_weeks=4,
        rubric_pinned=True,
        requirements=(
            RequirementFacts(
                "minimum",
                "BIG-registratie",
                "Wettelijk vereist.",
                "BIG registration",
                "Required by law.",
            ),
            RequirementFacts(
                "criterion",
                "Zicht op het vak",
                "Voorspelt passendheid.",
                "Insight into the specialty",
                "Predicts fit.",
            ),
        ),
        description="Over de opleiding.",
        description_en="About the training.",
        pluses=(PlusFacts("anios", "Ervaring als anios.", "Experience as anios."),),
        members=COMMITTEE,
    )


def names(facts: ProcedureFacts, now: datetime = NOW) -> set[str]:
    return {finding.check for finding in checks.run(facts, now)}


def test_a_complete_procedure_passes_every_check() -> None:
    assert checks.run(good(), NOW) == []


@pytest.mark.parametrize(
    ("change", "expected", "severity"),
    [
        (
            {"requirements": (RequirementFacts("minimum", "BIG-registratie", "  "),)},
            "rationale_missing",
            Severity.ERROR,
        ),
        (
            {"requirements": (RequirementFacts("criterion", "Zicht op het vak", "Omdat."),)},
            "no_minimum_requirements",
            Severity.ERROR,
        ),
        ({"method": " "}, "no_method", Severity.ERROR),
        ({"rubric_pinned": False}, "no_rubric", Severity.ERROR),
        ({"members": COMMITTEE[:3]}, "no_observer", Severity.ERROR),
        (
            {
                "members": (
                    *COMMITTEE[:3],
                    MemberFacts("observer", "", True, "Zus van de opleider", True),
                )
            },
            "observer_tie",
            Severity.ERROR,
        ),
        (
            {
                "requirements": (
                    RequirementFacts("minimum", "Gepromoveerd (PhD)", "Wij doen veel onderzoek."),
                )
            },
            "hard_requirement_plus",
            Severity.WARNING,
        ),
        (
            {
                "requirements": (
                    RequirementFacts("minimum", "Twee jaar ervaring als anios", "Ervaring telt."),
                )
            },
            "hard_requirement_plus",
            Severity.WARNING,
        ),
        ({"ranking_rule": ""}, "no_lottery_rule", Severity.ERROR),
        (
            {
                "members": (
                    *COMMITTEE[:2],
                    MemberFacts("member", "staff", True, "", True),
                    COMMITTEE[3],
                )
            },
            "no_aios",
            Severity.WARNING,
        ),
        (
            {
                "members": (
                    MemberFacts("chair", "staff", True, "", True),
                    MemberFacts("member", "staff", True, "", True),
                    MemberFacts("member", "staff", True, "", True),
                    COMMITTEE[3],
                )
            },
            "one_function",
            Severity.WARNING,
        ),
        (
            {"members": (MemberFacts("chair", "opleider", False, "", True), *COMMITTEE[1:])},
            "untrained_members",
            Severity.WARNING,
        ),
        ({"closes_at": NOW - DAY, "opens_at": NOW - 10 * DAY}, "timeline", Severity.ERROR),
        ({"closes_at": None}, "timeline", Severity.ERROR),
        ({"interview_days": ()}, "timeline", Severity.ERROR),
        ({"letter_round_result_at": NOW + 20 * DAY}, "timeline", Severity.ERROR),
        ({"final_result_at": NOW + 45 * DAY}, "timeline", Severity.ERROR),
        ({"quorum": 4}, "quorum_too_large", Severity.ERROR),
        ({"retention_weeks": None}, "retention_missing", Severity.ERROR),
        ({"role_overlaps": ("Anna (member)",)}, "role_overlap", Severity.ERROR),
        (
            {"organisation_admins": 1, "admins_on_committee": 1},
            "no_second_admin",
            Severity.WARNING,
        ),
        ({"without_free_admin": ("X-0001",)}, "no_second_admin", Severity.WARNING),
        ({"places": 4, "institutions": (("UMCU", 2), ("MMA", 1))}, "capacities", Severity.ERROR),
        (
            {"places": 3, "institutions": (("UMCU", 2), ("MMA", 1))},
            "preference_deadline",
            Severity.ERROR,
        ),
        ({"panels": ("Panel 1",)}, "panel_without_aios", Severity.WARNING),
        ({"method_en": ""}, "english_missing", Severity.WARNING),
        ({"description_en": " "}, "english_missing", Severity.WARNING),
        (
            {
                "places": 3,
                "institutions": (("UMCU", 2), ("MMA", 1)),
                "preference_deadline": NOW + 59 * DAY,  # before the final result
            },
            "preference_deadline",
            Severity.ERROR,
        ),
    ],
)
def test_each_check_names_its_deviation(change: dict, expected: str, severity: Severity) -> None:
    findings = checks.run(replace(good(), **change), NOW)
    finding = next(f for f in findings if f.check == expected)
    assert finding.severity == severity
    assert finding.quote and finding.source and finding.title


def test_every_check_has_a_test_above() -> None:
    tested = {
        "rationale_missing", "no_minimum_requirements", "no_method", "no_rubric",
        "no_observer", "observer_tie", "hard_requirement_plus", "no_lottery_rule", "no_aios",
        "one_function", "untrained_members", "timeline", "quorum_too_large",
        "retention_missing", "role_overlap", "no_second_admin", "capacities",
        "preference_deadline", "english_missing", "panel_without_aios",
    }  # fmt: skip
    assert {check.name for check in checks.CHECKS} == tested


def test_a_panel_with_its_aios_passes_and_one_without_is_named() -> None:
    facts = good()
    seated = tuple(
        replace(m, panel="Panel 1" if m.function == "aios" or m.role == "chair" else "Panel 2")
        for m in facts.members
    )
    findings = checks.run(replace(facts, members=seated, panels=("Panel 1", "Panel 2")), NOW)
    found = next(f for f in findings if f.check == "panel_without_aios")
    assert found.details == ("Panel 2",)
    all_seated = tuple(replace(m, panel="Panel 1") for m in facts.members)
    findings = checks.run(replace(facts, members=all_seated, panels=("Panel 1",)), NOW)
    assert "panel_without_aios" not in {f.check for f in findings}


def test_a_cluster_passes_with_its_places_added_up_and_a_deadline_after_the_result() -> None:
    cluster = replace(
        good(),
        places=3,
        institutions=(("UMCU", 2), ("MMA", 1)),
        preference_deadline=NOW + 70 * DAY,
    )
    assert checks.run(cluster, NOW) == []
    # One institution: nobody chooses, so no deadline is needed.
    assert checks.run(replace(good(), places=2, institutions=(("UMCU", 2),)), NOW) == []


def test_a_second_admin_is_needed_only_when_every_admin_is_on_the_committee() -> None:
    def warned(**change: int) -> bool:
        return "no_second_admin" in [f.check for f in checks.run(replace(good(), **change), NOW)]

    assert not warned(organisation_admins=1, admins_on_committee=0)
    assert not warned(organisation_admins=2, admins_on_committee=1)
    assert warned(organisation_admins=2, admins_on_committee=2)


def test_a_plus_is_not_a_gate_and_a_criterion_mentioning_a_phd_is_not_a_requirement() -> None:
    facts = replace(
        good(),
        requirements=(
            *good().requirements,
            RequirementFacts("criterion", "Onderzoekservaring of een PhD", "Telt mee."),
        ),
    )
    assert "hard_requirement_plus" not in names(facts)


def test_timeline_details_say_what_is_wrong() -> None:
    facts = replace(good(), opens_at=NOW + 31 * DAY)
    finding = next(f for f in checks.run(facts, NOW) if f.check == "timeline")
    assert any("is not before" in detail for detail in finding.details)


def step(action: str) -> lifecycle.Transition:
    return lifecycle.BY_ACTION[action]


def test_the_life_cycle_runs_in_order_and_never_skips() -> None:
    phases = [t.source for t in lifecycle.TRANSITIONS] + [lifecycle.TRANSITIONS[-1].target]
    assert phases == list(Phase)
    assert lifecycle.blockers(step("open"), Phase.DRAFT, good(), NOW) != []
    assert lifecycle.next_transition(Phase.ARCHIVED) is None


def test_publish_needs_a_clean_check() -> None:
    assert lifecycle.blockers(step("publish"), Phase.DRAFT, good(), NOW) == []
    reasons = lifecycle.blockers(
        step("publish"), Phase.DRAFT, replace(good(), ranking_rule=""), NOW
    )
    assert reasons and "lottery" in reasons[0]
    # warnings do not block
    facts = replace(
        good(),
        members=(*COMMITTEE[:2], MemberFacts("member", "staff", True, "", True), COMMITTEE[3]),
    )
    assert lifecycle.blockers(step("publish"), Phase.DRAFT, facts, NOW) == []


def test_open_and_close_wait_for_their_moments() -> None:
    facts = good()
    assert lifecycle.blockers(step("open"), Phase.PUBLISHED, facts, NOW)
    assert lifecycle.blockers(step("open"), Phase.PUBLISHED, facts, NOW + 2 * DAY) == []
    assert lifecycle.blockers(step("close"), Phase.OPEN, facts, NOW + 2 * DAY)
    assert lifecycle.blockers(step("close"), Phase.OPEN, facts, NOW + 31 * DAY) == []


def test_interviews_need_an_observer_without_ties_and_a_quorum() -> None:
    facts = good()
    assert lifecycle.blockers(step("start_interviews"), Phase.LETTER_ROUND, facts, NOW) == []
    undeclared = replace(
        facts, members=(*COMMITTEE[:3], MemberFacts("observer", "", True, "", False))
    )
    assert lifecycle.blockers(step("start_interviews"), Phase.LETTER_ROUND, undeclared, NOW)
    tied = replace(
        facts, members=(*COMMITTEE[:3], MemberFacts("observer", "", True, "kent A", True))
    )
    assert lifecycle.blockers(step("start_interviews"), Phase.LETTER_ROUND, tied, NOW)
    assert lifecycle.blockers(
        step("start_interviews"), Phase.LETTER_ROUND, replace(facts, members=COMMITTEE[:3]), NOW
    )
    assert lifecycle.blockers(
        step("start_interviews"), Phase.LETTER_ROUND, replace(facts, quorum=4), NOW
    )


@pytest.mark.parametrize(
    "action", ["start_letter_round", "start_deliberation", "publish_results", "archive"]
)
def test_the_other_steps_are_refused_outside_their_phase(action: str) -> None:
    transition = step(action)
    assert lifecycle.blockers(transition, transition.source, good(), NOW) == []
    other = next(p for p in Phase if p != transition.source)
    assert lifecycle.blockers(transition, other, good(), NOW)


def test_results_wait_for_a_draw_that_still_matches_its_tied_group() -> None:
    publish = step("publish_results")
    problem = "Draw X/draw-1 was held between A, B, C for 2 places, but ..."
    stale = replace(good(), draw_missing=True, draw_problems=(problem,))
    # The draw's own problem is named, not the general "the draw has to take place".
    assert lifecycle.blockers(publish, Phase.DELIBERATION, stale, NOW) == [problem]
    missing = replace(good(), draw_missing=True)
    [reason] = lifecycle.blockers(publish, Phase.DELIBERATION, missing, NOW)
    assert "the draw has to take place first" in reason


def test_interviews_wait_for_every_members_declaration_and_name_who_is_missing() -> None:
    members = (
        MemberFacts("chair", "opleider", True, "", True, name="M. de Vries"),
        MemberFacts("member", "staff", True, "", False, name="F. El Amrani"),
        MemberFacts("member", "aios", True, "", False, reserve=True, name="J. Bakker"),
        MemberFacts("member", "nurse", True, "", True, name="M. Dijkstra"),
        MemberFacts("observer", "", True, "", True, name="I. Hoekstra"),
    )
    reasons = lifecycle.blockers(
        step("start_interviews"), Phase.LETTER_ROUND, replace(good(), members=members), NOW
    )
    assert reasons == [
        "These committee members have not yet declared whom of the applicants they know: "
        "F. El Amrani, J. Bakker."
    ]


def test_the_training_warning_counts_the_assessors_not_the_observer() -> None:
    # An observer without the training is no untrained committee member.
    untrained_observer = MemberFacts("observer", "", False, "", True)
    assert "untrained_members" not in names(
        replace(good(), members=(*COMMITTEE[:3], untrained_observer))
    )
    # One untrained member of the three who assess: "1 of 3", the observer not counted.
    untrained_member = MemberFacts("member", "staff", False, "", True)
    facts = replace(good(), members=(*COMMITTEE[:2], untrained_member, untrained_observer))
    finding = next(f for f in checks.run(facts, NOW) if f.check == "untrained_members")
    assert finding.details == ("1 of 3 committee members",)


def test_the_english_versions_name_each_text_that_has_none() -> None:
    facts = replace(
        good(),
        method_en="",
        requirements=(
            RequirementFacts("minimum", "BIG-registratie", "Wettelijk vereist."),
            RequirementFacts("criterion", "Zicht op het vak", "Voorspelt.", "Insight", ""),
        ),
        pluses=(PlusFacts("phd", ""), PlusFacts("other", "Vrijwilligerswerk")),
    )
    finding = next(f for f in checks.run(facts, NOW) if f.check == "english_missing")
    assert finding.severity == Severity.WARNING  # published with the procedure, never a block
    assert len(finding.details) == 4
    assert any("BIG-registratie" in d for d in finding.details)
    assert any("Zicht op het vak" in d for d in finding.details)  # its rationale
    assert any("Vrijwilligerswerk" in d for d in finding.details)
    # A plus without a description has nothing to translate: its kind is the platform's.
    assert not any("phd" in d for d in finding.details)
    # Nothing in Dutch, nothing to translate.
    assert "english_missing" not in names(replace(good(), description="", description_en=""))
