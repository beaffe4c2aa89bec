"""The placement's problems and verification steps in the reader's language (gettext).

A service turns a PlacementError into a refusal with `error_message`; the verify page
labels and explains each step with `step_label` and `explain`.
"""

from __future__ import annotations

from collections.abc import Mapping

from app.i18n import gettext as _
from app.lottery.draw import Step
from app.placement.match import PlacementError


def error_message(error: PlacementError) -> str:
    return problem(error.key, error.values)


def problem(key: str, values: Mapping[str, str]) -> str:
    """The sentence for a PlacementError key with its figures; the English text as given
    by the key itself when the key is unknown."""
    v = dict(values)
    messages = {
        "json": lambda: _("The text is not valid JSON (line %(line)s, column %(column)s).", **v),
        "not_object": lambda: _("The record must be a JSON object: {...}."),
        "placement_id": lambda: _(
            "The placement_id %(found)s must be ASCII text on one line.", **v
        ),
        "code_format": lambda: _("%(code)s is not an institution code.", **v),
        "code_not_ascii": lambda: _(
            "The code %(code)s has characters outside ASCII; use letters, digits and simple "
            "punctuation.",
            **v,
        ),
        "code_newline": lambda: _("The code %(code)s contains a line break.", **v),
        "no_institutions": lambda: _(
            "There are no institutions: add at least one with its number of places."
        ),
        "duplicate_code": lambda: _("The institution %(code)s is listed twice.", **v),
        "capacity": lambda: _(
            "The number of places of %(code)s is %(capacity)s; it must be a whole number of "
            "at least 1.",
            **v,
        ),
        "institutions_unsorted": lambda: _(
            "The institutions are not sorted ascending by code: %(codes)s.", **v
        ),
        "reference_format": lambda: _("%(ref)s is not an application reference.", **v),
        "no_candidates": lambda: _("The priority holds no candidates."),
        "duplicate_candidate": lambda: _("%(ref)s is in the priority more than once.", **v),
        "no_preferences": lambda: _(
            "%(ref)s is in the priority but has stated no preferences.", **v
        ),
        "empty_list": lambda: _(
            "The list of %(ref)s names no institution; choose at least one.", **v
        ),
        "unknown_code": lambda: _(
            "The list of %(ref)s names %(code)s, which is not an institution of this placement.",
            **v,
        ),
        "repeated_code": lambda: _("The list of %(ref)s names %(code)s twice.", **v),
        "preferences_not_in_priority": lambda: _(
            "There are preferences for candidates who are not in the priority: %(refs)s.", **v
        ),
        "withdrawn_unknown": lambda: _("%(ref)s is withdrawn but not in the priority.", **v),
        "withdrawn_repeated": lambda: _("%(ref)s is withdrawn twice.", **v),
        "withdrawn_unsorted": lambda: _(
            "The withdrawn candidates are not sorted ascending: %(refs)s.", **v
        ),
        "withdrawn_in_round_one": lambda: _("Round 1 has no withdrawn candidates."),
        "already_withdrawn": lambda: _("%(ref)s is withdrawn already.", **v),
        "priority_from": lambda: _(
            "priority_from must name a draw with its seed, or a ranking rule (with the draws "
            "that broke its ties)."
        ),
        "changed_between_rounds": lambda: _(
            "%(field)s differs from the previous round; between rounds only the withdrawn "
            "may change.",
            **v,
        ),
        "withdrawn_shrunk": lambda: _(
            "Withdrawn in the previous round but not in this one: %(refs)s.", **v
        ),
    }
    found = messages.get(key)
    return found() if found else key


def step_label(what: str) -> str:
    labels = {
        "version": _("Method version"),
        "fields": _("Record complete"),
        "placement_id": _("Placement"),
        "round": _("Round"),
        "institutions": _("Institutions"),
        "priority_from": _("Source of the priority"),
        "candidates": _("Candidates"),
        "preferences": _("Preferences"),
        "withdrawn": _("Withdrawn candidates"),
        "previous": _("Link to the previous round"),
        "sequence": _("Round number"),
        "previous_round": _("Previous round"),
        "unchanged": _("Unchanged between rounds"),
        "withdrawn_grew": _("Withdrawn only grows"),
        "moved_down": _("Nobody moved down"),
        "assignment": _("Assignment"),
        "unplaced": _("Unplaced"),
        "capacity": _("Capacity"),
        "draw": _("Draw"),
        "draw_id": _("Draw named"),
        "ordering_draw": _("Ordering draw"),
        "seed": _("Seed"),
        "priority": _("Priority order"),
        # The steps of a draw record (app/lottery/draw.py), named when one fails.
        "places": _("Places"),
        "commitment": _("Commitment"),
        "beacon": _("Beacon"),
        "order": _("Order"),
        "winners": _("Winners"),
        "reserve": _("Reserve list"),
    }
    return labels.get(what, what)


def _labels(names: str) -> str:
    return ", ".join(step_label(name) for name in names.split(", ") if name)


def _people(refs: str) -> str:
    return refs or _("nobody")


def explain(step: Step) -> str:
    """A verification step in the reader's language."""
    v = step.values
    if "problem" in v:
        return problem(v["problem"], v)
    texts = {
        "version": lambda: _("the record says %(found)s; the method is %(expected)s", **v),
        "fields": lambda: _(
            "placement_id, round, institutions, priority_from, priority, preferences, "
            "withdrawn, previous, assignment and unplaced are all there"
        ),
        "placement_id": lambda: _("ASCII text on one line"),
        "round": lambda: _("round %(round)s (rounds count from 1)", **v),
        "institutions": lambda: _(
            "each code once, ASCII, sorted ascending; every capacity at least 1: %(listing)s",
            **v,
        ),
        "priority_from": lambda: _("a draw with its seed, or a ranking rule"),
        "candidates": lambda: _("%(count)s candidates, each once", **v),
        "preferences": lambda: _(
            "every candidate has a list of institutions of this placement, none twice, and "
            "nobody else has one"
        ),
        "withdrawn": lambda: _("%(refs)s (each once, sorted ascending)", refs=_people(v["refs"])),
        "previous": lambda: _previous(step),
        "sequence": lambda: _("round %(round)s follows round %(before)s", **v),
        "previous_round": lambda: (
            _("the previous round checks out on its own")
            if step.ok
            else _(
                "the previous round does not check out at: %(failed)s", failed=_labels(v["failed"])
            )
        ),
        "unchanged": lambda: (
            _("only round, withdrawn, previous, assignment and unplaced changed")
            if step.ok
            else _("changed since the previous round: %(changed)s", **v)
        ),
        "withdrawn_grew": lambda: (
            _("everyone withdrawn before is still withdrawn")
            if step.ok
            else _("withdrawn before, but no longer: %(lost)s", **v)
        ),
        "moved_down": lambda: (
            _("nobody has a place lower on their own list than in the previous round")
            if step.ok
            else _("lower on their own list than in the previous round: %(down)s", **v)
        ),
        "assignment": lambda: (
            _("recomputed in priority order: %(assignment)s", **v)
            if step.ok
            else _(
                "recomputed in priority order: %(assignment)s; the record differs for %(differs)s",
                **v,
            )
        ),
        "unplaced": lambda: _(
            "recomputed: %(unplaced)s; the record says %(published)s",
            unplaced=_people(v["unplaced"]),
            published=_people(v["published"]),
        ),
        "capacity": lambda: (
            _("candidates per institution, of its places: %(taken)s", **v)
            if step.ok
            else _("more candidates than places: %(over)s", **v)
        ),
        "draw": lambda: (
            _("the draw record %(draw)s checks out", **v)
            if step.ok
            else _(
                "the draw record %(draw)s does not check out at: %(failed)s",
                draw=v["draw"],
                failed=_labels(v["failed"]),
            )
        ),
        "draw_id": lambda: (
            _("the priority names the draws %(named)s; the draw record is %(draw)s", **v)
            if "ranking" in v
            else _("the priority names draw %(named)s; the draw record is %(draw)s", **v)
        ),
        "ordering_draw": lambda: _(
            "an ordering draw (as many places as candidates) over exactly the candidates of "
            "the priority"
        ),
        "seed": lambda: _("the priority names seed %(named)s; the draw's seed is %(seed)s", **v),
        "priority": lambda: _priority(step),
    }
    found = texts.get(step.what)
    return found() if found else step.detail


def _previous(step: Step) -> str:
    v = step.values
    if "first" in v:
        if step.ok:
            return _("round 1 has no previous round")
        return _("round 1 has no previous round, but the record names %(published)s", **v)
    if "unchecked" in v and not step.ok:
        return _(
            "a later round names the SHA-256 of the previous round in 64 hex digits; the "
            "record says %(published)s",
            **v,
        )
    if "unchecked" in v:
        return _(
            "a SHA-256: %(published)s; not compared, because the previous round was not given",
            **v,
        )
    if "form" in v:
        return _(
            "the previous round's record holds a number with a decimal point, which has no "
            "canonical form"
        )
    return _(
        "the SHA-256 of the previous round's canonical JSON is %(computed)s; the record says "
        "%(published)s",
        **v,
    )


def _priority(step: Step) -> str:
    v = step.values
    if "relative" in v:
        return _(
            "in the priority the drawn candidates stand in this order: %(relative)s; the "
            "draw's order is %(order)s",
            **v,
        )
    if step.ok:
        return _("the priority is the draw's order: %(order)s", **v)
    return _("the priority differs from the draw's order: %(order)s", **v)
