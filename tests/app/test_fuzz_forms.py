"""Every state-changing route, sent random form fields by logged-in users: never a 5xx.

Hypothesis generates the bodies; the routes come from the permission matrix, so a new route
is fuzzed as soon as it has its row there.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from app.applications.models import Application
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.test_permissions import MATRIX
from tests.data.pdf import ALL as CRAFTED_PDFS

FIELD_NAMES = st.sampled_from(
    [
        "email", "password", "password_confirm", "name", "title", "specialty", "region",
        "places", "quorum", "method", "ranking_rule", "retention_weeks", "opens_at",
        "closes_at", "interview_day", "kind", "text", "rationale", "plus_kind", "rubric",
        "role", "function", "training_done", "action", "subject", "justification", "phone",
        "big_number", "answer-1", "relation-1", "note-1", "met-1", "reason-1", "has_ties",
        "ties", "gender", "confirm", "slug", "short_name", "next", "answer-²", "relation-²",
        "note-²", "met-²", "answer-99999999999999999999", "level-motivation",
        "reason-motivation", "level-collaboration", "version", "corrects", "about", "pluses",
        "plus", "member", "record", "places", "chosen", "secret", "commitment", "reserve",
        "previous", "draw",
    ]
)  # fmt: skip
# Numbers that str.isdigit() or int() accept but a column cannot hold, or that are not
# ASCII digits at all: each was a 500 somewhere once.
HOSTILE_NUMBERS = st.sampled_from(
    ["²", "١٢", "１２", "9" * 5000, str(2**31), str(2**63), str(2**64), "-0", "1_0", " 7 "]
)
VALUES = st.one_of(
    st.text(max_size=40),
    HOSTILE_NUMBERS,
    st.sampled_from(["", "0", "-1", "99999999999999999999", "2027-02-30", "2027-03-01T09:30",
                     "publish", "open", "submit", "met", "not_met", "yes", "minimum", "phd",
                     "starr-interview@1", "chair", "observer", "\x00", "é" * 300]),
)  # fmt: skip
FORMS = st.dictionaries(FIELD_NAMES, VALUES, max_size=8)
# The crafted PDFs (bombs, 10^4 pages, truncated, encrypted, renamed text) and a valid one.
PDFS = st.sampled_from(CRAFTED_PDFS)
UPLOAD_FIELDS = ["cv", "motivation", "other", "file"]

POST_ROUTES = sorted(path for method, path in MATRIX if method == "POST" and "logout" not in path)


def test_random_forms_never_cause_a_server_error(
    new_browser: Any, factory: Factory, session: Session
) -> None:
    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    admin, applicant = factory.org_admin(organisation), factory.user()
    session.add(
        Application(
            procedure_id=procedure.id,
            applicant_id=applicant.id,
            reference=f"{procedure.reference}-0001",
        )
    )
    session.commit()
    browsers: list[Browser] = [new_browser(), new_browser()]
    browsers[0].login(admin.email)
    browsers[1].login(applicant.email)
    values = {
        "reference": procedure.reference,
        "slug": organisation.slug,
        "token": "t",
        "mail_id": "1",
        "language": "nl",
        "requirement_id": "1",
        "plus_id": "1",
        "institution_id": "1",
        "member_id": "1",
        "document_id": "1",
        "application_reference": f"{procedure.reference}-0001",
        "number": "1",
        "panel_id": "1",
        "entry_id": "1",
    }
    failures: list[str] = []
    requests = [0]

    @settings(
        max_examples=250,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        route=st.sampled_from(POST_ROUTES),
        form=FORMS,
        who=st.sampled_from([0, 1]),
        path_number=st.one_of(st.just("1"), HOSTILE_NUMBERS),
        upload=st.one_of(st.none(), st.tuples(st.sampled_from(UPLOAD_FIELDS), PDFS)),
    )
    def post(route: str, form: dict[str, str], who: int, path_number: str, upload: Any) -> None:
        if route in ("/account/erase",) and form.get("confirm") == "yes":
            form = {**form, "confirm": "no"}  # keep the accounts for the next examples
        ids = {name: path_number for name in ("mail_id", "requirement_id", "plus_id",
                                              "institution_id", "member_id", "document_id",
                                              "number")}  # fmt: skip
        url = route.format(**(values | ids))
        files = None
        if upload is not None:
            field, path = upload
            files = {field: (path.name, path.read_bytes(), "application/pdf")}
        response = browsers[who].post(url, form, files=files)
        requests[0] += 1
        if response.status_code >= 500:
            failures.append(f"{url} {form!r}: {response.status_code}")

    post()
    print(f"\nform fuzzer: {requests[0]} requests, {len(failures)} with 5xx")
    assert not failures, "\n".join(failures[:10])
