"""The words shown for the lottery's stored values and verification steps, in the reader's
language."""

from __future__ import annotations

from app.i18n import gettext as _
from app.i18n import ngettext
from app.lottery import draw as drawlib
from app.lottery.vocabulary import DrawStatus


def draw_status_label(status: str) -> str:
    labels: dict[str, str] = {
        DrawStatus.PREPARING: _("Collecting commitments"),
        DrawStatus.ANNOUNCED: _("Announced: waiting for the secrets"),
        DrawStatus.DRAWN: _("Drawn"),
        DrawStatus.VOID: _("Void"),
    }
    return labels.get(status, status)


def contributor_label(name: str) -> str:
    labels = {"observer": _("Observer"), "chair": _("Chair"), "platform": _("Platform")}
    return labels.get(name, name)


def verify_step_label(what: str) -> str:
    labels = {
        "version": _("Method version"),
        "fields": _("Record complete"),
        "candidates": _("Candidates"),
        "places": _("Places"),
        "commitment": _("Commitment"),
        "beacon": _("Beacon"),
        "seed": _("Seed"),
        "order": _("Order"),
        "winners": _("Winners"),
        "reserve": _("Reserve list"),
    }
    return labels.get(what, what)


def explain(step: drawlib.Step) -> str:
    """A verification step in the reader's language."""
    v = step.values
    if step.what == "version":
        return _("the record says %(found)s; the method is %(expected)s", **v)
    if step.what == "fields":
        return _("draw_id, candidates, places, contributors and beacon are all there")
    if step.what == "candidates":
        return _("every candidate once, sorted ascending")
    if step.what == "places":
        return ngettext(
            "%(num)s place for %(count)s candidates",
            "%(num)s places for %(count)s candidates",
            int(v["places"]),
            count=v["count"],
        )
    if step.what == "commitment" and "missing" in v:
        return _("contributor %(index)s (%(name)s) has no secret in the record", **v)
    if step.what == "commitment":
        return _(
            "contributor %(index)s (%(name)s): the SHA-256 of the secret is %(computed)s; the "
            "announced commitment is %(promised)s",
            **v,
        )
    if step.what == "beacon":
        return _("the beacon %(name)s has a value", **v)
    if step.what == "seed":
        return _(
            "the SHA-256 of the seed input is %(computed)s; the record says %(published)s", **v
        )
    if step.what == "order":
        return _("sorted by SHA-256(seed + reference): %(order)s", **v)
    if step.what == "winners":
        return ngettext(
            "the first place: %(winners)s",
            "the first %(num)s: %(winners)s",
            int(v["places"]),
            winners=v["winners"],
        )
    if step.what == "reserve":
        return _("the others, in order: %(reserve)s", **v)
    return step.detail
