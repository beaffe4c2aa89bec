"""The access-control matrix: every route against every role and phase.

A route added to the app without a row here fails `test_every_route_has_a_row`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlmodel import Session, select
from starlette.routing import Route

from app.accounts.models import Mail
from app.applications.models import Application
from app.procedures.models import ProcedureMember
from app.procedures.vocabulary import Phase
from app.scoring.models import MemberConflict, ScoreSheet
from tests.app.conftest import Browser, Factory

ROLES = (
    "anonymous",
    "applicant",  # applied to another procedure (the "other applicant" here)
    "candidate",  # applied to this procedure (invited from the interviews on)
    "member",
    "chair",
    "conflicted",  # a committee member who declared a conflict with the candidate
    "observer",
    "own_admin",
    "other_admin",
    "platform_admin",
    # Two roles at once (issue 13): what counts is their standing towards the candidate.
    "admin_member",  # an admin of the organisation who is also a member, sheet still open
    "admin_scored",  # the same, with their sheet for the candidate submitted
    "admin_conflicted",  # an admin who is also a member with a conflict with the candidate
    "applicant_member",  # an applicant of this procedure invited onto its committee
)
COMMITTEE = ("member", "chair", "conflicted")
DOUBLE = ("admin_member", "admin_scored", "admin_conflicted", "applicant_member")
# Who may not even know that a draft procedure exists.
HIDDEN = {"applicant": 404, "other_admin": 404, "candidate": 404}

EVERYONE = dict.fromkeys(ROLES)


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(ROLES, status)


def logged_in(status: int, *, anonymous: int = 303, **others: int) -> dict[str, int]:
    return {**dict.fromkeys(ROLES, status), "anonymous": anonymous, **others}


def only(allowed: dict[str, int], *, otherwise: int = 403) -> dict[str, int]:
    return {**dict.fromkeys(ROLES, otherwise), "anonymous": 303, **allowed}


# (method, path) -> phase -> role -> expected status. "any" holds for every phase not named.
MATRIX: dict[tuple[str, str], dict[str, dict[str, int]]] = {
    ("GET", "/"): {"any": everyone(200)},
    ("GET", "/healthz"): {"any": everyone(200)},
    ("GET", "/favicon.ico"): {"any": everyone(200)},
    ("GET", "/lang/{language}"): {"any": everyone(303)},
    ("GET", "/openapi.json"): {"any": everyone(200)},
    ("GET", "/api/docs"): {"any": everyone(200)},
    ("GET", "/login"): {"any": everyone(200)},
    ("POST", "/login"): {"any": everyone(422)},
    ("POST", "/logout"): {"any": everyone(303)},
    ("GET", "/register"): {"any": everyone(200)},
    ("POST", "/register"): {"any": everyone(422)},
    ("GET", "/verify/{token}"): {"any": everyone(404)},
    ("POST", "/verify/{token}"): {"any": everyone(404)},
    ("GET", "/password/forgot"): {"any": everyone(200)},
    ("POST", "/password/forgot"): {"any": everyone(422)},
    ("GET", "/password/reset/{token}"): {"any": everyone(404)},
    ("POST", "/password/reset/{token}"): {"any": everyone(404)},
    ("GET", "/invitations/{token}"): {"any": everyone(404)},
    ("POST", "/invitations/{token}"): {"any": everyone(404)},
    ("GET", "/account"): {"any": logged_in(200)},
    ("POST", "/account/verification"): {"any": logged_in(200)},
    ("GET", "/home"): {"any": logged_in(303)},
    ("GET", "/my"): {"any": logged_in(200)},
    ("GET", "/committee"): {"any": only(dict.fromkeys(COMMITTEE, 200))},
    ("GET", "/observer"): {"any": only({"observer": 200})},
    ("GET", "/manage"): {
        "any": only({"own_admin": 200, "other_admin": 200, "platform_admin": 200})
    },
    ("GET", "/admin"): {"any": only({"platform_admin": 200})},
    # The national pool: one's own record for anyone logged in (an empty form is refused as
    # input), the search and adding people for the admins.
    ("GET", "/pool"): {"any": logged_in(200)},
    ("POST", "/pool"): {"any": logged_in(422)},
    ("POST", "/pool/leave"): {"any": logged_in(422)},
    ("GET", "/pool/export.json"): {"any": logged_in(200)},
    ("GET", "/manage/pool"): {
        "any": only({"own_admin": 200, "other_admin": 200, "platform_admin": 200})
    },
    ("POST", "/manage/pool"): {
        "any": only({"own_admin": 422, "other_admin": 422, "platform_admin": 422})
    },
    ("GET", "/admin/outbox"): {"any": only({"platform_admin": 200})},
    ("GET", "/admin/outbox/{mail_id}"): {"any": only({"platform_admin": 200})},
    # The world's mail was kept (no SMTP): only a failed one can be sent again.
    ("POST", "/admin/outbox/{mail_id}/send-again"): {"any": only({"platform_admin": 409})},
    ("POST", "/admin/organisations"): {"any": only({"platform_admin": 422})},
    ("POST", "/admin/organisations/{slug}/admins"): {"any": only({"platform_admin": 422})},
    ("GET", "/procedures/{reference}"): {
        "any": everyone(200),
        "draft": {
            **everyone(200),
            "anonymous": 404,
            **HIDDEN,
        },
    },
    ("GET", "/manage/procedures/{reference}"): {
        "any": only({"own_admin": 200, "platform_admin": 200}),
        "draft": only({"own_admin": 200, "platform_admin": 200, **HIDDEN}),
    },
    ("POST", "/manage/procedures/{reference}/invitations"): {
        "any": only({"own_admin": 422, "platform_admin": 422}),
        "draft": only({"own_admin": 422, "platform_admin": 422, **HIDDEN}),
        "archived": only({"applicant": 403, "other_admin": 403}),
    },
    ("GET", "/procedures/{reference}/audit.jsonl"): {
        "any": only({"own_admin": 200, "platform_admin": 200, "observer": 200}),
        "draft": only(
            {
                "own_admin": 200,
                "platform_admin": 200,
                "observer": 200,
                **HIDDEN,
            }
        ),
    },
}


def editor(draft: int, open_: int, interviews: int, archived: int) -> dict[str, dict[str, int]]:
    """An editor route: only the organisation's admins and the platform admin get through;
    what they get depends on the phase (the data sent is empty, so it is refused as input)."""

    def allowed(status: int, *, hidden: bool = False) -> dict[str, int]:
        hide = {**HIDDEN} if hidden else {}
        return only({"own_admin": status, "platform_admin": status, **hide})

    return {
        "draft": allowed(draft, hidden=True),
        "open": allowed(open_),
        "interviews": allowed(interviews),
        "archived": allowed(archived),
        "any": allowed(open_),
    }


MATRIX.update(
    {
        ("GET", "/api/procedures"): {"any": everyone(200)},
        ("GET", "/api/procedures/{reference}"): {"any": everyone(200), "draft": everyone(404)},
        ("GET", "/procedures.ics"): {"any": everyone(200)},
        ("GET", "/procedures/{reference}/calendar.ics"): {
            "any": everyone(200),
            "draft": everyone(404),
        },
        # The chain's public form, checkpoints and keys: anyone, once published.
        ("GET", "/procedures/{reference}/audit.public.jsonl"): {
            "any": everyone(200),
            "draft": everyone(404),
        },
        ("GET", "/procedures/{reference}/checkpoints.json"): {
            "any": everyone(200),
            "draft": everyone(404),
        },
        ("GET", "/audit/keys.json"): {"any": everyone(200)},
        ("GET", "/manage/organisations/{slug}/procedures/new"): {
            "any": only({"own_admin": 200, "platform_admin": 200})
        },
        ("POST", "/manage/organisations/{slug}/procedures"): {
            "any": only({"own_admin": 422, "platform_admin": 422})
        },
        ("POST", "/manage/procedures/{reference}/basics"): editor(422, 422, 422, 422),
        # After the deadline the opening and the deadline are shown as fixed and not sent,
        # so they keep their value: an empty form then lacks its public reason (422).
        ("POST", "/manage/procedures/{reference}/timeline"): editor(303, 409, 422, 409),
        # Once open, the procedure has an application (the candidate's): it is frozen.
        ("POST", "/manage/procedures/{reference}/requirements"): editor(422, 409, 409, 409),
        ("POST", "/manage/procedures/{reference}/requirements/{requirement_id}/delete"): editor(
            404, 409, 409, 409
        ),
        ("POST", "/manage/procedures/{reference}/pluses"): editor(422, 409, 409, 409),
        # The English versions follow the Dutch: fixed once the procedure is frozen.
        ("POST", "/manage/procedures/{reference}/requirements/{requirement_id}/english"): editor(
            404, 409, 409, 409
        ),
        ("POST", "/manage/procedures/{reference}/pluses/{plus_id}/english"): editor(
            404, 409, 409, 409
        ),
        # Empty forms: the number of places (or hours) is refused before anything else.
        ("POST", "/manage/procedures/{reference}/institutions"): editor(422, 422, 422, 422),
        (
            "POST",
            "/manage/procedures/{reference}/institutions/{institution_id}/delete",
        ): editor(422, 422, 422, 409),
        ("POST", "/manage/procedures/{reference}/placement"): editor(422, 422, 422, 422),
        ("POST", "/manage/procedures/{reference}/pluses/{plus_id}/delete"): editor(
            404, 409, 409, 409
        ),
        ("POST", "/manage/procedures/{reference}/rubric"): editor(422, 409, 409, 409),
        ("POST", "/manage/procedures/{reference}/members/{member_id}"): editor(404, 404, 404, 404),
        ("POST", "/manage/procedures/{reference}/members/{member_id}/delete"): editor(
            404, 404, 404, 404
        ),
        ("POST", "/manage/procedures/{reference}/transition"): editor(422, 422, 422, 422),
        # The confirmation of publishing the results: only during the deliberation.
        ("GET", "/manage/procedures/{reference}/publish-results"): editor(409, 409, 409, 409),
        ("POST", "/manage/procedures/{reference}/corrections"): editor(409, 422, 422, 422),
        ("POST", "/procedures/{reference}/ties"): {
            phase: {
                **dict.fromkeys(ROLES, 404),
                "anonymous": 303,
                **dict.fromkeys(COMMITTEE, 403),
                "observer": 422 if phase in ("draft", "open") else 403,
            }
            for phase in ("draft", "open", "interviews", "archived", "any")
        },
    }
)


def applying(open_: int, closed: int, candidate: int | None = None) -> dict[str, dict[str, int]]:
    """The application form: anyone logged in without a role in the procedure, while open;
    after the deadline the same people get the page that says when it closed (`closed`),
    and the candidate, who has applied, is sent to their application."""
    outsiders = ("applicant", "candidate", "own_admin", "other_admin", "platform_admin")
    draft = {**only({}), "own_admin": 403, "other_admin": 403, "platform_admin": 403}
    after = {**only({}), **dict.fromkeys(outsiders, closed), "candidate": 303}
    return {
        "open": {
            **only({}),
            **dict.fromkeys(outsiders, open_),
            "candidate": open_ if candidate is None else candidate,
        },
        "draft": {**draft, **HIDDEN},
        "any": after,
    }


def own_application(status: int, *, late: int | None = None) -> dict[str, dict[str, int]]:
    """An applicant's own pages: everyone else may not know the application exists."""
    mine = {**dict.fromkeys(ROLES, 404), "anonymous": 303, "applicant": status}
    rows = {"any": mine}
    if late is not None:
        rows["archived"] = {**mine, "applicant": late}
    return rows


MATRIX.update(
    {
        # The candidate has applied: the form sends them to their application.
        ("GET", "/procedures/{reference}/apply"): applying(200, 200, candidate=303),
        ("POST", "/procedures/{reference}/apply"): applying(303, 409),
        ("GET", "/applications/{application_reference}"): own_application(200),
        ("POST", "/applications/{application_reference}/withdraw"): own_application(303, late=409),
        # Only the candidate states preferences; nobody else may know the application exists.
        ("POST", "/applications/{application_reference}/preferences"): own_application(422),
        # Only the candidate answers an offer (none made: the answer is refused as input) and
        # reads the statement (none: not placed, not closed).
        ("POST", "/applications/{application_reference}/offer"): own_application(422),
        # Only the applicant books their interview (no slot named: refused as input).
        ("POST", "/applications/{application_reference}/interview"): own_application(422),
        ("GET", "/applications/{application_reference}/interview.ics"): own_application(404),
        ("GET", "/applications/{application_reference}/placement-statement.pdf"): own_application(
            404
        ),
        ("GET", "/applications/{application_reference}/documents/{document_id}"): own_application(
            404
        ),
        (
            "POST",
            "/applications/{application_reference}/documents/{document_id}/delete",
        ): own_application(409),  # the application is submitted: its documents stay
    }
)

MATRIX.update(
    {
        ("GET", "/manage/procedures/{reference}/letter-round"): editor(200, 200, 200, 200),
        ("POST", "/manage/procedures/{reference}/letter-round/{application_reference}"): editor(
            409, 409, 409, 409
        ),
        ("POST", "/manage/procedures/{reference}/letter-round-result"): editor(409, 409, 409, 409),
        # Its confirmation step: refused as publishing is, outside the letter round.
        ("GET", "/manage/procedures/{reference}/letter-round-result"): editor(409, 409, 409, 409),
        ("GET", "/applications/{application_reference}/diversity"): own_application(200),
        ("POST", "/applications/{application_reference}/diversity"): own_application(303),
        ("GET", "/account/export"): {"any": logged_in(200)},
        ("POST", "/account/erase"): {"any": logged_in(422)},
    }
)


def scoring(
    interviews: dict[str, int], archived: dict[str, int] | None = None
) -> dict[str, dict[str, int]]:
    """A page about the candidate, who is invited from the interviews on. Before that the
    applicant does not exist for anyone (404); the draft procedure neither. Those who may
    know the applicant exists (their scorers, the admins, the observer) get 403 where a
    rule stops them; a conflicted member, outsiders and other admins always get 404."""
    nobody = {**dict.fromkeys(ROLES, 404), "anonymous": 303}
    closed = {
        **nobody,
        "own_admin": 403,
        "platform_admin": 403,
        "observer": 403,
    }
    return {
        "draft": nobody,
        "open": nobody,
        "interviews": {**nobody, **interviews},
        "archived": {**closed, **(archived or {})},
        "any": nobody,
    }


OVERSEERS = {"own_admin": 403, "platform_admin": 403, "observer": 403}

MATRIX.update(
    {
        ("GET", "/committee/{reference}"): {
            "any": only(dict.fromkeys(COMMITTEE, 200)),
            "draft": only({**dict.fromkeys(COMMITTEE, 200), **HIDDEN}),
        },
        # A panel's running-late notice (issue 16): the world's committee has no panels.
        ("POST", "/committee/{reference}/running-late"): {
            "any": only(dict.fromkeys(COMMITTEE, 409)),
            "draft": only({**dict.fromkeys(COMMITTEE, 409), **HIDDEN}),
        },
        # Every committee member declares their ties once (empty: refused as input).
        ("POST", "/committee/{reference}/ties"): {
            "any": only(dict.fromkeys(COMMITTEE, 403)),
            "draft": only({**dict.fromkeys(COMMITTEE, 403), **HIDDEN}),
            "interviews": only(dict.fromkeys(COMMITTEE, 422)),
        },
        ("GET", "/committee/{reference}/applicants/{application_reference}"): scoring(
            {"member": 200, "chair": 200, **OVERSEERS}
        ),
        ("GET", "/committee/{reference}/applicants/{application_reference}/conflict"): scoring(
            {"member": 200, "chair": 200, **OVERSEERS}
        ),
        ("POST", "/committee/{reference}/applicants/{application_reference}/conflict"): scoring(
            {"member": 422, "chair": 422, **OVERSEERS}
        ),
        (
            "GET",
            "/committee/{reference}/applicants/{application_reference}/deliberation",
        ): scoring(
            # Not every sheet is in: the scorers wait; the admins and the observer may look.
            {"member": 403, "chair": 403, "own_admin": 200, "platform_admin": 200, "observer": 200}
        ),
        (
            "POST",
            "/committee/{reference}/applicants/{application_reference}/deliberation",
        ): scoring({"member": 403, "chair": 403, **OVERSEERS}),
        # {member_id} is the "member" role's own sheet: the chair may not save on it.
        (
            "POST",
            "/committee/{reference}/applicants/{application_reference}/sheets/{member_id}",
        ): scoring({"member": 422, "chair": 403, **OVERSEERS}),
        (
            "POST",
            "/committee/{reference}/applicants/{application_reference}/sheets/{member_id}/review",
        ): scoring({"member": 422, "chair": 403, **OVERSEERS}),
        (
            "POST",
            "/committee/{reference}/applicants/{application_reference}/sheets/{member_id}/submit",
        ): scoring({"member": 422, "chair": 403, **OVERSEERS}),
        ("GET", "/committee/{reference}/round"): {
            # A member sees the round's figures once all their own sheets are in.
            "any": only(
                {
                    **dict.fromkeys(COMMITTEE, 200),
                    "observer": 200,
                    "own_admin": 200,
                    "platform_admin": 200,
                }
            ),
            "draft": only(
                {
                    **dict.fromkeys(COMMITTEE, 200),
                    "observer": 200,
                    "own_admin": 200,
                    "platform_admin": 200,
                    **HIDDEN,
                }
            ),
            "interviews": only(
                {"conflicted": 200, "observer": 200, "own_admin": 200, "platform_admin": 200}
            ),
            "archived": only(
                {"conflicted": 200, "observer": 200, "own_admin": 200, "platform_admin": 200}
            ),
        },
        ("GET", "/manage/procedures/{reference}/scoring"): {
            "any": only({"own_admin": 200, "platform_admin": 200}),
            "draft": only({"own_admin": 200, "platform_admin": 200, **HIDDEN}),
        },
        ("POST", "/manage/procedures/{reference}/scoring/{application_reference}/reserve"): {
            "any": only({"own_admin": 404, "platform_admin": 404}),
            "draft": only({"own_admin": 404, "platform_admin": 404, **HIDDEN}),
            "interviews": only({"own_admin": 422, "platform_admin": 422}),
            "archived": only({"own_admin": 422, "platform_admin": 422}),
        },
    }
)


def public(status: int) -> dict[str, dict[str, int]]:
    """Public once published; a draft exists only for its admins and its people."""
    return {
        "any": everyone(status),
        "draft": {**everyone(status), "anonymous": 404, **HIDDEN},
    }


def no_draw(admins: int) -> dict[str, dict[str, int]]:
    """An admin route about draw number 1, which the world's procedures do not have."""
    return {
        "any": only({"own_admin": admins, "platform_admin": admins}),
        "draft": only({"own_admin": admins, "platform_admin": admins, **HIDDEN}),
    }


MATRIX.update(
    {
        ("GET", "/manage/procedures/{reference}/ranking"): no_draw(200),
        ("POST", "/manage/procedures/{reference}/draws"): no_draw(422),
        ("POST", "/manage/procedures/{reference}/draws/{number}/announce"): no_draw(404),
        ("POST", "/manage/procedures/{reference}/draws/{number}/beacon"): no_draw(404),
        ("POST", "/manage/procedures/{reference}/draws/{number}/void"): no_draw(404),
        # Draw number 1 does not exist: 404 for everyone logged in.
        ("GET", "/procedures/{reference}/draws/{number}/contribute"): {"any": logged_in(404)},
        ("POST", "/procedures/{reference}/draws/{number}/commit"): {"any": logged_in(404)},
        ("POST", "/procedures/{reference}/draws/{number}/reveal"): {"any": logged_in(404)},
        ("GET", "/procedures/{reference}/draws"): public(200),
        ("GET", "/api/procedures/{reference}/draws"): public(200),
        ("POST", "/manage/procedures/{reference}/ranking/{application_reference}/decline"): {
            **no_draw(404),
            # The candidate has no place to decline: results are not published.
            "interviews": only({"own_admin": 409, "platform_admin": 409}),
            "archived": only({"own_admin": 409, "platform_admin": 409}),
        },
        ("GET", "/lottery/verify"): {"any": everyone(200)},
        ("POST", "/lottery/verify"): {"any": everyone(422)},
        ("GET", "/placement/verify"): {"any": everyone(200)},
        ("POST", "/placement/verify"): {"any": everyone(422)},
        # The placement (issue 15): its admins run it, showing counts and never a list; the
        # world's procedures are no clusters with published results, so every step is
        # refused (an ordering draw: not in this phase, or no such draw; a round or the
        # close: not confirmed). Members see nothing of it.
        ("GET", "/manage/procedures/{reference}/placement"): no_draw(200),
        ("POST", "/manage/procedures/{reference}/placement/draw"): no_draw(409),
        # Draw number 1 does not exist.
        ("POST", "/manage/procedures/{reference}/placement/draws/{number}/announce"): no_draw(404),
        ("POST", "/manage/procedures/{reference}/placement/draws/{number}/beacon"): no_draw(404),
        ("POST", "/manage/procedures/{reference}/placement/draws/{number}/void"): no_draw(404),
        ("POST", "/manage/procedures/{reference}/placement/rounds"): no_draw(422),
        ("POST", "/manage/procedures/{reference}/placement/close"): no_draw(422),
        # Interview days (issue 16): the admins set up panels and the schedule before the
        # interviews (an empty form is refused as input; afterwards the step is refused).
        ("GET", "/manage/procedures/{reference}/interviews"): no_draw(200),
        # The national pool (issue 16): composing a committee from it is inviting, refused
        # once the procedure is archived.
        ("GET", "/manage/procedures/{reference}/pool"): {
            **no_draw(200),
            "archived": only({}),
        },
        ("POST", "/manage/procedures/{reference}/pool/{entry_id}"): {
            **no_draw(422),
            "archived": only({}),
        },
        ("POST", "/manage/procedures/{reference}/panels"): {
            **no_draw(422),
            "interviews": only({"own_admin": 409, "platform_admin": 409}),
            "archived": only({"own_admin": 409, "platform_admin": 409}),
        },
        ("POST", "/manage/procedures/{reference}/panels/{panel_id}/delete"): no_draw(404),
        ("POST", "/manage/procedures/{reference}/panels/seats"): no_draw(422),
        ("POST", "/manage/procedures/{reference}/schedule"): no_draw(422),
        ("POST", "/manage/procedures/{reference}/schedule/generate"): no_draw(409),
        ("POST", "/manage/procedures/{reference}/schedule/clear"): no_draw(409),
        ("POST", "/manage/procedures/{reference}/bookings"): no_draw(404),
        ("POST", "/manage/procedures/{reference}/bookings/{application_reference}/cancel"): {
            **no_draw(404),
            "interviews": only({"own_admin": 409, "platform_admin": 409}),
            "archived": only({"own_admin": 409, "platform_admin": 409}),
        },
        ("GET", "/procedures/{reference}/placements"): public(200),
        ("GET", "/api/procedures/{reference}/placements"): public(200),
    }
)

# The PDF report is made by a job: the first ask answers that it is being made.
PDF = 202


def overseers(status: int, *, observer: int | None = None) -> dict[str, dict[str, int]]:
    """The observer and the admins read the round; nobody else."""
    allowed = {"own_admin": status, "platform_admin": status,
               "observer": status if observer is None else observer}  # fmt: skip
    return {"any": only(allowed), "draft": only({**allowed, **HIDDEN})}


MATRIX.update(
    {
        ("GET", "/observer/procedures/{reference}"): overseers(200),
        # Only the observer remarks (the empty remark is refused); admins read only.
        ("POST", "/observer/procedures/{reference}/remarks"): overseers(403, observer=422),
        ("GET", "/procedures/{reference}/report"): overseers(200),
        ("GET", "/procedures/{reference}/report.pdf"): overseers(PDF),
        ("GET", "/procedures/{reference}/report.csv"): overseers(200),
        ("GET", "/procedures/{reference}/report.xlsx"): overseers(200),
        ("POST", "/procedures/{reference}/sign-off"): {
            **overseers(403, observer=409),
            # Archived: every outcome is in, so the observer may sign the round off (without
            # `confirmed` the answer leads to the confirmation step).
            "archived": only({"own_admin": 403, "platform_admin": 403, "observer": 303}),
        },
        ("GET", "/procedures/{reference}/sign-off"): {
            **overseers(403, observer=409),
            "archived": only({"own_admin": 403, "platform_admin": 403, "observer": 200}),
        },
        ("GET", "/audit/verify"): {"any": everyone(200)},
        ("POST", "/audit/verify"): {"any": everyone(422)},
    }
)

PHASES = (Phase.DRAFT, Phase.OPEN, Phase.INTERVIEWS, Phase.ARCHIVED)
SHEETS = "/committee/{reference}/applicants/{application_reference}/sheets/{member_id}"
REFUSED = (403, 404)


def _either(first: int, second: int) -> int:
    """Two roles at once: what either role lets through."""
    return second if first in REFUSED else first


def double_roles(row: tuple[str, str], phase: str, expected: dict[str, int]) -> dict[str, int]:
    """The identities with two roles, by default: an admin who is also a member gets what
    either role lets through ({member_id} is the plain member's sheet: not theirs, as for
    the chair); an applicant on their own committee is only an applicant of it, as the
    candidate is (the committee role does not count; in a draft they have not applied yet,
    so they are a member).
    STANDING below lists where their standing decides otherwise."""
    as_member = expected["chair" if row[1].startswith(SHEETS) else "member"]
    return {
        **expected,
        "admin_member": _either(as_member, expected["own_admin"]),
        "admin_scored": _either(as_member, expected["own_admin"]),
        "admin_conflicted": _either(expected["conflicted"], expected["own_admin"]),
        "applicant_member": expected["member"] if phase == "draft" else expected["candidate"],
    }


# Where standing, not the roles held, decides (the candidate is invited from the interviews
# on; in the archived phase the round is closed).
INVITED_PHASES = ("interviews", "archived")
_CANDIDATE = "/committee/{reference}/applicants/{application_reference}"
STANDING: dict[tuple[str, str], dict[str, dict[str, int]]] = {
    # The chain holds the others' submitted levels: not while one's own sheet is open, not
    # with a conflict (the candidate's declaration counts from the application on).
    ("GET", "/procedures/{reference}/audit.jsonl"): {
        "open": {"admin_conflicted": 403},
        **{phase: {"admin_member": 403, "admin_conflicted": 403} for phase in INVITED_PHASES},
    },
    # Roles exclude each other: whoever is on the committee cannot apply, and the one who
    # applied and was then invited cannot apply again.
    **{
        # (the refusal comes before the clock: after the deadline too, not the closed page)
        (method, "/procedures/{reference}/apply"): {
            phase: dict.fromkeys(DOUBLE, 403) for phase in ("open", *INVITED_PHASES)
        }
        for method in ("GET", "POST")
    },
    # The admins who are also members hold a role here: they are told they cannot declare.
    ("POST", "/procedures/{reference}/ties"): {
        phase: dict.fromkeys(DOUBLE[:3], 403)
        for phase in ("draft", "open", "interviews", "archived")
    },
    # Whoever must still score sees no deliberation; an admin with a conflict not even that
    # the applicant exists.
    ("GET", _CANDIDATE + "/deliberation"): {
        "interviews": {"admin_member": 403, "admin_scored": 403, "admin_conflicted": 404},
        "archived": {"admin_conflicted": 404},
    },
    **{
        (method, _CANDIDATE + suffix): {
            phase: {"admin_conflicted": 404} for phase in INVITED_PHASES
        }
        for method, suffix in [
            ("GET", ""),
            ("GET", "/conflict"),
            ("POST", "/conflict"),
            ("POST", "/deliberation"),
            ("POST", "/sheets/{member_id}"),
            ("POST", "/sheets/{member_id}/review"),
            ("POST", "/sheets/{member_id}/submit"),
        ]
    },
    # Admin work on an applicant one has a conflict with passes to another admin.
    ("POST", "/manage/procedures/{reference}/scoring/{application_reference}/reserve"): {
        phase: {"admin_conflicted": 404} for phase in INVITED_PHASES
    },
    ("POST", "/manage/procedures/{reference}/ranking/{application_reference}/decline"): {
        phase: {"admin_conflicted": 404} for phase in INVITED_PHASES
    },
    ("POST", "/manage/procedures/{reference}/bookings/{application_reference}/cancel"): {
        phase: {"admin_conflicted": 404} for phase in INVITED_PHASES
    },
}


def expected_for(row: tuple[str, str], phase: str) -> dict[str, int]:
    by_phase = MATRIX[row]
    expected = double_roles(row, phase, by_phase.get(phase, by_phase["any"]))
    return {**expected, **STANDING.get(row, {}).get(phase, {})}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every (method, path) the app answers, including those of included routers."""
    found: set[tuple[str, str]] = set()

    def walk(routes: list[Any]) -> None:
        for route in routes:
            included = getattr(route, "original_router", None)
            if included is not None:  # FastAPI keeps included routers as a wrapper
                walk(included.routes)
            elif isinstance(route, APIRoute | Route):
                found.update((m, route.path) for m in route.methods or () if m != "HEAD")

    walk(app.routes)
    return found


def test_every_route_has_a_row(app: FastAPI) -> None:
    missing = app_routes(app) - set(MATRIX)
    assert not missing, f"routes without a row in the permission matrix: {sorted(missing)}"
    stale = set(MATRIX) - app_routes(app)
    assert not stale, f"rows for routes that no longer exist: {sorted(stale)}"


@dataclass
class World:
    reference: str
    slug: str
    mail_id: int
    browsers: dict[str, Browser]
    application: str
    candidate_application: str
    member_id: int


@pytest.fixture(params=PHASES, ids=lambda phase: phase.value)
def world(request: Any, factory: Factory, session: Session, new_browser: Any) -> World:
    organisation = factory.organisation()
    other = factory.organisation()
    procedure = factory.procedure(organisation, phase=request.param, applicants=1)
    candidate_application = f"{procedure.reference}-0001"
    [candidate] = factory.last_applicants
    users = {
        "applicant": factory.user(),
        "candidate": candidate,
        "member": factory.member(procedure, "member"),
        "chair": factory.member(procedure, "chair"),
        "conflicted": factory.member(procedure, "member"),
        "observer": factory.member(procedure, "observer"),
        "own_admin": factory.org_admin(organisation),
        "other_admin": factory.org_admin(other),
        "platform_admin": factory.user(platform_admin=True),
        **{role: factory.org_admin(organisation) for role in DOUBLE[:3]},
        "applicant_member": factory.user(),
    }
    for role in DOUBLE:
        factory.member(procedure, "member", user=users[role])
    mail = Mail(recipient="x@example.org", subject="s", body="b")
    session.add(mail)
    # The applicant's own application sits in a sibling procedure, so this one stays unfrozen.
    sibling = factory.procedure(organisation, phase=request.param)
    application = Application(
        procedure_id=sibling.id,
        applicant_id=users["applicant"].id,
        reference=f"{sibling.reference}-0001",
        status="submitted",
    )
    session.add(application)
    member_ids = {
        role: session.execute(
            select(ProcedureMember.id).where(
                ProcedureMember.procedure_id == procedure.id,
                ProcedureMember.user_id == users[role].id,
            )
        ).scalar_one()
        for role in ("member", "conflicted", *DOUBLE)
    }
    invited = session.execute(
        select(Application).where(Application.reference == candidate_application)
    ).scalar_one_or_none()
    if invited is not None:
        # Applied, then invited onto the committee (as only old data can still hold it);
        # withdrawn, so the round's figures stay as they were.
        session.add(
            Application(
                procedure_id=procedure.id,
                applicant_id=users["applicant_member"].id,
                reference=f"{procedure.reference}-0099",
                status="withdrawn",
            )
        )
        for role in ("conflicted", "admin_conflicted"):
            session.add(
                MemberConflict(
                    procedure_id=procedure.id,
                    application_id=invited.id,
                    member_id=member_ids[role],
                    relation="friend",
                )
            )
        if invited.letter_round_outcome == "invited":
            for role, status in (("admin_member", "draft"), ("admin_scored", "submitted")):
                session.add(
                    ScoreSheet(
                        procedure_id=procedure.id,
                        application_id=invited.id,
                        member_id=member_ids[role],
                        status=status,
                        levels={},
                    )
                )
    session.commit()
    browsers = {"anonymous": new_browser()}
    for role, user in users.items():
        browsers[role] = new_browser()
        browsers[role].login(user.email)
    assert mail.id is not None
    return World(
        procedure.reference,
        organisation.slug,
        mail.id,
        browsers,
        application.reference,
        candidate_application,
        member_ids["member"],
    )


def test_the_matrix(world: World, app: FastAPI) -> None:
    phase = next(p for p in PHASES if world.reference and p.value in _phase_of(world, app))
    values = {
        "reference": world.reference,
        "slug": world.slug,
        "mail_id": str(world.mail_id),
        "token": "not-a-real-token",
        "requirement_id": "999999",
        "plus_id": "999999",
        "institution_id": "999999",
        "member_id": "999999",
        "document_id": "999999",
        "application_reference": world.application,
        "language": "en",
        "number": "1",
        "panel_id": "1",
        "entry_id": "999999",
    }
    failures = []
    # Logging out last, so every other row is asked by a logged-in browser.
    for method, path in sorted(MATRIX, key=lambda row: row[1] == "/logout"):
        expected = expected_for((method, path), phase.value)
        about_candidate = path.startswith(
            (
                "/committee/{reference}/",
                "/manage/procedures/{reference}/scoring/",
                "/manage/procedures/{reference}/ranking/",
                "/manage/procedures/{reference}/bookings/",
            )
        )
        url = path.format(
            **{
                k: v
                for k, v in values.items()
                if not (about_candidate and k in ("application_reference", "member_id"))
            },
            **(
                {
                    "application_reference": world.candidate_application,
                    "member_id": str(world.member_id),
                }
                if about_candidate
                else {}
            ),
        )
        for role in ROLES:
            browser = world.browsers[role]
            response = browser.get(url) if method == "GET" else browser.post(url, {})
            if response.status_code != expected[role]:
                failures.append(
                    f"{method} {url} as {role}: {response.status_code}, expected {expected[role]}"
                )
    assert not failures, "\n".join(failures)


def _phase_of(world: World, app: FastAPI) -> str:
    from sqlalchemy import select

    from app.procedures.models import Procedure

    with app.state.database.session() as session:
        return session.execute(
            select(Procedure.phase).where(Procedure.reference == world.reference)
        ).scalar_one()


def test_a_conflict_free_page_never_leaks_drafts_into_lists(world: World) -> None:
    """The public list shows a procedure exactly when its page may be seen anonymously."""
    listed = world.reference in world.browsers["anonymous"].get("/").text
    visible = world.browsers["anonymous"].get(f"/procedures/{world.reference}").status_code == 200
    assert listed == visible
