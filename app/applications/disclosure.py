"""Which counts of the voluntary diversity questionnaire may be shown. Pure code.

A group smaller than `minimum` is not shown at all (not even as "< 5"), because with few
applicants a small group points at a person. Hiding one group is not enough: every question
is answered (or left unanswered, itself a group) by the same respondents, so the total
follows from any other question, and a single hidden group would be that total minus the
groups shown. Whenever exactly one group of a question is hidden, the next smallest is
hidden too (complementary suppression); then no hidden count follows from the rest.
"""

from __future__ import annotations

from collections.abc import Mapping

SMALLEST_GROUP = 5


def shown_groups(counts: Mapping[str, int], minimum: int = SMALLEST_GROUP) -> dict[str, int]:
    """The groups of one question that may be shown, with their counts, in name order."""
    present = {group: count for group, count in counts.items() if count > 0}
    hidden = {group for group, count in present.items() if count < minimum}
    if len(hidden) == 1 and len(present) > 1:
        # The smallest shown group (ties broken by name, so the result is stable).
        hidden.add(
            min((count, group) for group, count in present.items() if group not in hidden)[1]
        )
    return {group: present[group] for group in sorted(present) if group not in hidden}
