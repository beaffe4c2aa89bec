"""Demo data that looks real: two societies, procedures modelled on real programmes (see
shared/seeds) in every phase of their life, and an account for every role.

Passwords are random, made when the demo is loaded, and kept in var/demo-accounts.txt
(git-ignored) so `make run` can print them at every start.
"""

from __future__ import annotations

import functools
import hashlib
import io
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pypdf import PdfWriter
from sqlmodel import Session, col, select

from app import demo_interviews, permissions
from app.accounts.models import User
from app.accounts.service import create_user
from app.applications import documents, letter_round, submission
from app.applications.models import Application
from app.applications.stores import open_storage
from app.audit import keys as signing_keys
from app.conduct import transition
from app.config import Settings
from app.db import Database, utcnow
from app.forms import AMSTERDAM
from app.lottery import ceremony, draws
from app.lottery.models import Draw
from app.placement import preferences, priority
from app.placement import rounds as placement_rounds
from app.procedures import committee as procedure_committee
from app.procedures import editor, lifecycle, queries
from app.procedures import institutions as procedure_institutions
from app.procedures import organisations as procedure_organisations
from app.procedures.models import Organisation, OrganisationAdmin, Procedure, ProcedureMember
from app.procedures.rubric import Rubric
from app.procedures.vocabulary import Phase
from app.scoring import conflicts, deliberation, sheets
from app.scoring import round as scoring_round
from app.scoring.sheets import SheetInput

ACCOUNTS_FILE = "demo-accounts.txt"


@dataclass(frozen=True)
class DemoAccount:
    role: str
    email: str
    name: str
    password: str


ACCOUNTS = [
    ("platform admin", "beheer@example.org", "Platformbeheer"),
    ("WV admin (NVA)", "secretariaat.nva@example.org", "Anouk Verbeek"),
    ("committee chair (opleider)", "opleider@example.org", "dr. Maarten de Vries"),
    ("committee member (staff)", "staflid@example.org", "dr. Fatima El Amrani"),
    ("committee member (aios)", "aios@example.org", "Joris Bakker"),
    ("observer", "waarnemer@example.org", "mr. Ingrid Hoekstra"),
    ("applicant", "sollicitant1@example.org", "Sanne Jansen"),
    ("applicant", "sollicitant2@example.org", "Daan Visser"),
    # Interview days (INT-OOST-2027-1): a panel member, and an applicant yet to book.
    ("committee member (panel B)", "panellid@example.org", "dr. Bram Hendriks"),
    ("applicant (interview to book)", "sollicitant3@example.org", "Sara Bakker"),
]

UTRECHT = (
    "Cluster Utrecht: UMC Utrecht, Meander Medisch Centrum Amersfoort, Gelre ziekenhuizen "
    "Apeldoorn, Rijnstate Arnhem en Ziekenhuis Gelderse Vallei Ede"
)
ANE_DESCRIPTION = (
    "Opleiding tot anesthesioloog in het Cluster Utrecht, volgens het Regionaal Opleidingsplan "
    "Anesthesiologie, de regionale uitwerking van het Landelijk Opleidingsplan 'Duurzaam en "
    "aantoonbaar bekwaam' van de Nederlandse Vereniging voor Anesthesiologie.\n\n"
    "Delen van de opleiding worden gevolgd in de vijf ziekenhuizen van het cluster; de "
    "academische stages vinden plaats in het UMC Utrecht."
)
BTG_DESCRIPTION = (
    "Enkelvoudige differentiatie Bloedtransfusiegeneeskunde binnen de opleiding Interne "
    "geneeskunde (LOIG-2019): het verwerven, geschikt maken en toepassen van menselijke "
    "bloedbestanddelen voor de behandeling van patiënten in alle disciplines.\n\n"
    "De differentiatie wordt gevolgd in het LUMC en het Erasmus MC, in samenwerking met Sanquin."
)
ANE_DESCRIPTION_EN = (
    "Training as an anaesthesiologist in Cluster Utrecht, under the Regional Training Plan "
    "for Anaesthesiology, the regional elaboration of the national training plan 'Sustainably "
    "and demonstrably competent' of the Netherlands Society of Anaesthesiologists.\n\n"
    "Parts of the training take place in the cluster's five hospitals; the academic rotations "
    "are at UMC Utrecht."
)
INT_DESCRIPTION_EN = (
    "Training as an internist under the national training plan for Internal Medicine "
    "(LOIG-2019), with rotations in the region's academic and teaching hospitals."
)
INT_DESCRIPTION = (
    "Opleiding tot internist volgens het Landelijk Opleidingsplan Interne geneeskunde "
    "(LOIG-2019), met stages in de academische en de opleidende ziekenhuizen van de regio."
)


@dataclass(frozen=True)
class DemoProcedure:
    organisation: str
    reference: str
    phase: Phase
    places: int
    title: str
    specialty: str
    region: str
    description: str
    # When applications close, counted in days from now (negative: in the past).
    closes_in_days: int
    # A cluster's institutions (code, name, city, places): the places are their sum.
    institutions: tuple[tuple[str, str, str, int], ...] = ()
    # The English version of the description (empty: English visitors read the Dutch).
    description_en: str | None = None
    # The two interview days, counted in days after applications close.
    interviews_after_days: tuple[int, int] = (21, 22)

    @property
    def english_description(self) -> str:
        if self.description_en is not None:
            return self.description_en
        return {ANE_DESCRIPTION: ANE_DESCRIPTION_EN, INT_DESCRIPTION: INT_DESCRIPTION_EN}.get(
            self.description, ""
        )


# The places of Cluster Utrecht per hospital (Gelre has none this time).
CLUSTER_UTRECHT = (
    ("UMCU", "UMC Utrecht", "Utrecht", 1),
    ("MMA", "Meander Medisch Centrum", "Amersfoort", 1),
    ("RST", "Rijnstate", "Arnhem", 1),
    ("GV", "Ziekenhuis Gelderse Vallei", "Ede", 1),
)

# The same cluster a year earlier, with two places at UMC Utrecht: the spec's worked example.
CLUSTER_UTRECHT_2025 = (
    ("UMCU", "UMC Utrecht", "Utrecht", 2),
    ("MMA", "Meander Medisch Centrum", "Amersfoort", 1),
    ("RST", "Rijnstate", "Arnhem", 1),
    ("GV", "Ziekenhuis Gelderse Vallei", "Ede", 1),
)

DEMO_PROCEDURES = (
    DemoProcedure(
        "nva",
        "ANE-UTR-2027-1",
        Phase.OPEN,
        4,
        "Opleiding Anesthesiologie, Cluster Utrecht (voorjaar 2027)",
        "Anesthesiologie",
        UTRECHT,
        ANE_DESCRIPTION,
        21,
        institutions=CLUSTER_UTRECHT,
    ),
    DemoProcedure(
        "niv",
        "INT-BTG-2027-1",
        Phase.PUBLISHED,
        1,
        "Differentiatie Bloedtransfusiegeneeskunde, LUMC en Erasmus MC",
        "Interne geneeskunde",
        "LUMC Leiden en Erasmus MC Rotterdam",
        BTG_DESCRIPTION,
        45,
    ),
    DemoProcedure(
        "nva",
        "ANE-ZWN-2027-1",
        Phase.CLOSED,
        3,
        "Opleiding Anesthesiologie, regio Zuidwest-Nederland",
        "Anesthesiologie",
        "Erasmus MC en opleidingsziekenhuizen OOR ZWN",
        "",
        -2,
    ),
    DemoProcedure(
        "niv",
        "INT-NN-2027-1",
        Phase.LETTER_ROUND,
        5,
        "Opleiding Interne geneeskunde, Noord-Nederland",
        "Interne geneeskunde",
        "UMC Groningen en OOR Noord-Nederland",
        INT_DESCRIPTION,
        -12,
    ),
    DemoProcedure(
        "niv",
        demo_interviews.OOST,
        Phase.INTERVIEWS,
        4,
        "Opleiding Interne geneeskunde, OOR Oost-Nederland",
        "Interne geneeskunde",
        "Radboudumc en OOR Oost-Nederland",
        INT_DESCRIPTION,
        # Closed two weeks ago; the first interview day is today, the second in a week,
        # and the applicants not yet booked can still book a time on it.
        -14,
        interviews_after_days=(14, 21),
    ),
    DemoProcedure(
        "nva",
        "ANE-UTR-2026-2",
        Phase.INTERVIEWS,
        4,
        "Opleiding Anesthesiologie, Cluster Utrecht (najaar 2026)",
        "Anesthesiologie",
        UTRECHT,
        ANE_DESCRIPTION,
        -30,
    ),
    DemoProcedure(
        "nva",
        "ANE-ZWN-2026-2",
        Phase.DELIBERATION,
        2,
        "Opleiding Anesthesiologie, regio Zuidwest-Nederland (najaar 2026)",
        "Anesthesiologie",
        "Erasmus MC en opleidingsziekenhuizen OOR ZWN",
        ANE_DESCRIPTION,
        -45,
    ),
    DemoProcedure(
        "niv",
        "INT-AMS-2026-2",
        Phase.DELIBERATION,
        6,
        "Opleiding Interne geneeskunde, OOR Amsterdam",
        "Interne geneeskunde",
        "Amsterdam UMC en OOR Amsterdam",
        INT_DESCRIPTION,
        -60,
    ),
    DemoProcedure(
        "nva",
        "ANE-UTR-2026-1",
        Phase.RESULTS,
        4,
        "Opleiding Anesthesiologie, Cluster Utrecht (voorjaar 2026)",
        "Anesthesiologie",
        UTRECHT,
        ANE_DESCRIPTION,
        # Results published five days ago: within the retention period, so still there; the
        # suitable candidates are stating their preferences (the deadline is in nine days).
        -40,
        institutions=CLUSTER_UTRECHT,
    ),
    DemoProcedure(
        "nva",
        "ANE-UTR-2025-2",
        Phase.RESULTS,
        5,
        "Opleiding Anesthesiologie, Cluster Utrecht (najaar 2025)",
        "Anesthesiologie",
        UTRECHT,
        ANE_DESCRIPTION,
        # Results published nineteen days ago; the placement has run its two rounds: the
        # first candidate placed declined, the freed place went down the order, then closed.
        -54,
        institutions=CLUSTER_UTRECHT_2025,
    ),
    DemoProcedure(
        "niv",
        "INT-ZUID-2025-2",
        Phase.ARCHIVED,
        4,
        "Opleiding Interne geneeskunde, OOR Zuid (najaar 2025)",
        "Interne geneeskunde",
        "Maastricht UMC+ en OOR Zuid",
        INT_DESCRIPTION,
        -360,
    ),
    DemoProcedure(
        "nva",
        "ANE-UTR-2027-2",
        Phase.DRAFT,
        4,
        "Opleiding Anesthesiologie, Cluster Utrecht (najaar 2027)",
        "Anesthesiologie",
        UTRECHT,
        ANE_DESCRIPTION,
        230,
    ),
)

METHOD = (
    "Brievenronde: de commissie toetst elke sollicitatie aan de gepubliceerde minimale eisen; "
    "iedereen die daaraan voldoet, wordt uitgenodigd voor een gesprek.\n\n"
    "Gespreksronde: een gesprek van 45 minuten volgens de STARR-methode met drie "
    "commissieleden. Elk commissielid vult de uniforme matrix eerst individueel in, met een "
    "geschreven reden per score; daarna bespreekt de commissie de scores samen en legt zij "
    "per criterium de gezamenlijke uitkomst en een motivering vast.\n\n"
    "Wie geschikt is en niet kan worden geplaatst omdat er meer gelijkwaardige kandidaten "
    "dan plaatsen zijn, neemt deel aan een openbaar controleerbare loting."
)
METHOD_EN = (
    "Letter round: the committee checks every application against the published minimum "
    "requirements; everyone who meets them is invited to an interview.\n\n"
    "Interview round: a 45-minute interview by the STARR method with three committee "
    "members. Each member first fills in the uniform matrix on their own, with a written "
    "reason per score; then the committee discusses the scores together and records the "
    "joint outcome and a motivation per criterion.\n\n"
    "Anyone found suitable who cannot be placed because there are more equally suitable "
    "candidates than places takes part in a publicly verifiable lottery."
)
# Each requirement: kind, text, rationale, and their English versions.
REQUIREMENTS = (
    (
        "minimum",
        "Artsexamen behaald en BIG-registratie als arts (of aangevraagd)",
        "Zonder BIG-registratie mag je de opleiding wettelijk niet beginnen.",
        "Medical degree and BIG registration as a doctor (or applied for)",
        "Without BIG registration you may not legally start the training.",
    ),
    (
        "minimum",
        "Beheersing van het Nederlands op minimaal niveau C1",
        "Je communiceert vanaf de eerste dag met patiënten en collega's, ook in acute situaties.",
        "Command of Dutch at level C1 at least",
        "From the first day you talk with patients and colleagues, in emergencies too.",
    ),
    (
        "criterion",
        "Zicht op het vak: wat weet je van het werk en waarom past het bij je?",
        "Een realistisch beeld van het vak voorspelt beter of de opleiding bij je past dan "
        "eerdere werkervaring in een bepaald ziekenhuis.",
        "Insight into the specialty: what do you know of the work and why does it suit you?",
        "A realistic picture of the specialty predicts better whether the training suits you "
        "than earlier work experience in a particular hospital.",
    ),
    (
        "criterion",
        "Wat heb je gedaan sinds je artsexamen (werk, onderwijs, bestuur, zorg)?",
        "Alle ervaring telt mee; de landelijke leidraad vraagt om aandacht voor diverse "
        "profielen en niet-klinische vaardigheden.",
        "What have you done since your medical degree (work, teaching, boards, care)?",
        "All experience counts; the national guideline asks for attention to diverse profiles "
        "and non-clinical skills.",
    ),
)
PLUSES = (
    (
        "anios",
        "Klinische ervaring als anios telt als pre, alleen bij gelijke geschiktheid.",
        "Clinical experience as a non-training doctor counts as a plus, only between equally "
        "suitable candidates.",
    ),
    (
        "languages",
        "Beheersing van een extra taal die patiënten in de regio spreken.",
        "Command of another language that patients in the region speak.",
    ),
)


def complete_procedure(
    session: Session,
    settings: Settings,
    *,
    organisation: Organisation,
    spec: DemoProcedure,
    committee: list[tuple[User, str, str]],
    actor: str,
    now: datetime,
    applicants: tuple[User, ...] = (),
    ties: dict[str, str] | None = None,
    before_interviews: Callable[[Procedure], None] | None = None,
) -> Procedure:
    """A procedure filled in as an admin would, then walked through its life cycle.

    Each step is taken at the moment it would have been taken (`now` is simulated), so
    the preconditions of the life cycle hold just as they do in real use. `ties` maps an
    applicant's e-mail to the e-mail of the committee member they declare they know.
    """
    day = timedelta(days=1)
    # Deadlines fall at 23:59 Dutch time, as real procedures put them.
    closes_at = (
        (now + spec.closes_in_days * day)
        .astimezone(AMSTERDAM)
        .replace(hour=23, minute=59, second=0, microsecond=0)
        .astimezone(UTC)
    )
    opens_at = closes_at - 35 * day
    letter_round = closes_at + 10 * day
    interviews = [(closes_at + n * day).date() for n in spec.interviews_after_days]
    final = closes_at + 35 * day
    procedure = editor.create_procedure(
        session,
        actor=actor,
        organisation=organisation,
        reference=spec.reference,
        title=spec.title,
        specialty=spec.specialty,
        region=spec.region,
        places=spec.places,
        description=spec.description,
    )
    editor.update_basics(
        session,
        actor=actor,
        procedure=procedure,
        title=spec.title,
        specialty=spec.specialty,
        region=spec.region,
        description=spec.description,
        places=spec.places,
        method=METHOD,
        quorum=3,
        ranking_rule="lottery_among_suitable",
        retention_weeks=4,
        description_en=spec.english_description,
        method_en=METHOD_EN,
    )
    editor.set_timeline(
        session,
        actor=actor,
        procedure=procedure,
        opens_at=opens_at,
        closes_at=closes_at,
        letter_round_result_at=letter_round,
        interview_days=interviews,
        final_result_at=final,
    )
    for code, name, city, capacity in spec.institutions:
        procedure_institutions.add_institution(
            session, actor=actor, procedure=procedure, code=code, name=name, city=city,
            capacity=capacity,
        )  # fmt: skip
    if len(spec.institutions) > 1:
        procedure_institutions.set_placement(
            session, actor=actor, procedure=procedure,
            preference_deadline=(final + 14 * day).astimezone(AMSTERDAM)
            .replace(hour=23, minute=59).astimezone(UTC),
            answer_hours=48, last_round=3,
        )  # fmt: skip
    for kind, text, rationale, text_en, rationale_en in REQUIREMENTS:
        editor.add_requirement(
            session, actor=actor, procedure=procedure, kind=kind, text=text, rationale=rationale,
            text_en=text_en, rationale_en=rationale_en,
        )  # fmt: skip
    for kind, description, description_en in PLUSES:
        editor.add_plus(
            session, actor=actor, procedure=procedure, kind=kind, description=description,
            description_en=description_en,
        )  # fmt: skip
    rubric = queries.available_rubrics()[0]
    editor.pin_rubric(
        session, actor=actor, procedure=procedure, key=f"{rubric.id}@{rubric.version}"
    )
    for user, role, function in committee:
        procedure_committee.invite_to_procedure(
            session,
            settings,
            actor=actor,
            procedure=procedure,
            email=user.email,
            name=user.name,
            role=role,
            function=function,
            training_done=True,
        )
        assert user.id is not None
        if role == "observer":
            procedure_committee.declare_ties(session, procedure=procedure, user_id=user.id, ties="")
    moments = {
        "publish": opens_at - 7 * day,
        "open": opens_at + timedelta(minutes=1),
        "close": closes_at + timedelta(minutes=1),
        "start_letter_round": closes_at + day,
        "start_interviews": datetime.combine(interviews[0], datetime.min.time(), UTC),
        "start_deliberation": datetime.combine(interviews[-1], datetime.max.time(), UTC),
        "publish_results": final,
        "archive": final + 30 * day,
    }
    for step in lifecycle.TRANSITIONS:
        if step.action == "close" and procedure.phase == Phase.OPEN:
            for applicant in applicants:
                known = (ties or {}).get(applicant.email)
                _apply(session, settings, procedure, applicant, opens_at + 3 * day, known)
        if list(Phase).index(step.target) > list(Phase).index(spec.phase):
            break
        if step.action == "start_interviews":
            if applicants:
                _letter_round(session, settings, procedure, actor)
            if before_interviews is not None:
                before_interviews(procedure)  # the panels, the schedule, the bookings
            declare_no_ties(session, procedure)
        if step.action == "start_deliberation" and applicants:
            score_everyone(session, procedure, moments["start_interviews"])
        if step.action == "publish_results" and applicants:
            record_outcomes(session, procedure)
            hold_draw(session, procedure, actor)
        transition.transition(
            session, actor=actor, procedure=procedure, action=step.action,
            now=moments[step.action], settings=settings,
        )  # fmt: skip
    return procedure


def demo_pdf(title: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _apply(
    session: Session,
    settings: Settings,
    procedure: Procedure,
    applicant: User,
    when: datetime,
    knows: str | None = None,
) -> None:
    """An applicant applies as the form would have it, at a moment while the procedure was open."""
    storage = open_storage(settings, session.get_bind().engine)
    application = submission.start(session, procedure=procedure, applicant=applicant, now=when)
    answers = {
        r.id: "Zie mijn cv: ik voldoe hieraan."
        for r in queries.requirements(session, procedure)
        if r.id is not None
    }
    uploads = [
        documents.Upload(kind, f"{kind}.pdf", io.BytesIO(demo_pdf(f"{kind} {applicant.name}")))
        for kind in ("cv", "motivation")
    ]
    refused = submission.save_draft(
        session, storage, settings, application=application, procedure=procedure,
        phone="06 12345678", big_number="19012345601", answers=answers,
        retention_consent=False, acquaintances=_acquaintances(session, procedure, knows),
        uploads=uploads, now=when, institution=WORKPLACES.get(applicant.email, ""),
    )  # fmt: skip
    assert not refused, [problem.message for problem in refused]
    submission.submit(
        session, settings, application=application, procedure=procedure, applicant=applicant,
        now=when,
    )  # fmt: skip


def _acquaintances(
    session: Session, procedure: Procedure, email: str | None
) -> dict[int, tuple[str, str]]:
    if email is None:
        return {}
    member = session.execute(
        select(ProcedureMember)
        .join(User, col(User.id) == col(ProcedureMember.user_id))
        .where(ProcedureMember.procedure_id == procedure.id, User.email == email)
    ).scalar_one_or_none()
    if member is None or member.id is None:
        return {}
    return {member.id: ("supervised", "Was mijn supervisor tijdens mijn anios-periode.")}


def declare_no_ties(session: Session, procedure: Procedure) -> None:
    """Every committee member declares that they know none of the invited applicants (the
    applicants' own declarations already took their members out of their scoring)."""
    round_ = scoring_round.load_round(session, procedure)
    for member, _user in queries.members(session, procedure):
        if member.role in permissions.SCORING_ROLES and member.ties_declared_at is None:
            conflicts.declare_ties(session, round_=round_, member=member, has_ties="no", known={})


def _letter_round(session: Session, settings: Settings, procedure: Procedure, actor: str) -> None:
    requirements = letter_round.minimum_requirements(session, procedure)
    for application, _user in letter_round.submitted(session, procedure):
        verdicts = {r.id: ("met", "") for r in requirements if r.id is not None}
        letter_round.decide(
            session, actor=actor, procedure=procedure, application=application, verdicts=verdicts
        )
    letter_round.publish(session, settings, actor=actor, procedure=procedure)


# Scoring: deterministic, varied scores with reasons, as members would write them -----------

REASONS = {
    "low": (
        "Bleef bij algemene uitspraken; op doorvragen kwam geen eigen voorbeeld (S/T) en de "
        "eigen actie bleef vaag.",
        "Beschreef de situatie, maar niet wat hij of zij zelf deed; geen reflectie op het "
        "resultaat.",
    ),
    "mid": (
        "Gaf een concreet voorbeeld met situatie en taak; de eigen actie was helder, de "
        "reflectie nog wat oppervlakkig.",
        "Voorbeeld uit de anios-periode: eigen rol duidelijk, resultaat benoemd, reflectie "
        "alleen na doorvragen.",
    ),
    "high": (
        "Sterk STARR-voorbeeld: situatie en taak helder, eigen actie onderbouwd, resultaat "
        "concreet, en een eerlijke reflectie op wat het de volgende keer anders doet.",
        "Liet met twee voorbeelden zien dit bewust te doen; benoemde zelf de grenzen en wat "
        "daarvan geleerd is.",
    ),
}


def _demo_level(application: Application, member_id: int, criterion: str) -> int:
    """A stable level: the applicant's own strength (one in four is not suitable), a little
    different per criterion, and per member at most one level apart."""
    strength = (2, 3, 4, 4)[hashlib.sha256(application.reference.encode()).digest()[0] % 4]
    spread = hashlib.sha256(f"{application.reference}|{criterion}".encode()).digest()[0]
    level = strength + (0, 0, 1, -1 if strength >= 4 else 0)[spread % 4]
    noise = hashlib.sha256(f"{application.reference}|{member_id}|{criterion}".encode()).digest()
    step = (0, 1)[noise[0] % 2] if level <= 3 else (-1, 0, 1)[noise[0] % 3]
    return max(1, min(5, level + step))


# A round with a strong field: everyone good (4 or 5 from each member) but the last
# applicant, whom every member found below sufficient on collaboration (1 or 2). Its joint
# outcomes leave five suitable candidates for two places, so a draw is due.
STRONG_FIELD = frozenset({"ANE-ZWN-2026-2"})


def _strong_field_level(
    application: Application, member_id: int, criterion: str, *, last: bool
) -> int:
    noise = hashlib.sha256(f"{application.reference}|{member_id}|{criterion}".encode()).digest()
    if last and criterion == "collaboration":
        return 1 + noise[0] % 2
    return 4 + noise[0] % 2


def demo_sheet(
    application: Application,
    member_id: int,
    rubric: Rubric,
    level: Callable[[Application, int, str], int] = _demo_level,
) -> SheetInput:
    levels = {c.id: level(application, member_id, c.id) for c in rubric.criteria}
    reasons = {
        c.id: REASONS["low" if level <= 2 else "mid" if level <= 3 else "high"][member_id % 2]
        for c, level in ((c, levels[c.id]) for c in rubric.criteria)
    }
    return SheetInput({k: str(v) for k, v in levels.items()}, reasons, "0")


def score_everyone(
    session: Session,
    procedure: Procedure,
    when: datetime,
    only: Callable[[Application, ProcedureMember], bool] = lambda a, m: True,
    submit: bool = True,
) -> None:
    """Every scorer fills in and submits a sheet for each of their applicants."""
    round_ = scoring_round.load_round(session, procedure)
    applications = scoring_round.invited_applications(session, procedure)
    for application in applications:
        level: Callable[[Application, int, str], int] = _demo_level
        if procedure.reference in STRONG_FIELD:
            last = application is applications[-1]
            level = functools.partial(_strong_field_level, last=last)
        for member in round_.scorers(application):
            if not only(application, member) or round_.sheet(application, member):
                continue
            assert member.id is not None
            sheet = sheets.save_sheet(
                session,
                procedure=procedure,
                rubric=round_.rubric,
                application=application,
                member=member,
                given=demo_sheet(application, member.id, round_.rubric, level),
                now=when,
            )
            if submit:
                sheets.submit_sheet(
                    session, procedure=procedure, rubric=round_.rubric, application=application,
                    member=member,
                    version=str(sheet.version), confirmed=True, now=when,
                )  # fmt: skip


# The committee's reason per criterion, as a chair would write it after the discussion.
JOINT_REASONS = {
    "low": "De leden waren het eens: geen eigen voorbeeld met actie en resultaat, ook niet "
    "na doorvragen; daarom onder voldoende.",
    "mid": "Een concreet voorbeeld met een duidelijke eigen rol; de reflectie bleef aan de "
    "oppervlakte, daarom voldoende en niet meer.",
    "high": "Overtuigende STARR-voorbeelden met een eigen, onderbouwde aanpak en een eerlijke "
    "reflectie; alle leden zagen dit terug.",
}


def record_outcomes(session: Session, procedure: Procedure) -> None:
    """The committee takes the median per criterion (rounded up, so always within the
    members' range), the rule's verdict, and writes a reason per criterion."""
    round_ = scoring_round.load_round(session, procedure)
    for application in scoring_round.invited_applications(session, procedure):
        recorder = next(
            m for m in round_.scorers(application) if round_.records_outcome(application, m)
        )
        figures = deliberation.deliberation_figures(round_, application)
        levels = {f.id: math.ceil(f.summary.median) for f in figures if f.summary}
        suitable = deliberation.suitable_under_rule(round_.rubric, levels)
        weakest = min(figures, key=lambda f: levels[f.id])
        motivation = (
            "De commissie vond de kandidaat geschikt: op elk criterium ten minste voldoende, "
            f"het sterkst op {max(figures, key=lambda f: levels[f.id]).name.lower()}."
            if suitable
            else "De commissie vond de kandidaat (nog) niet geschikt: op "
            f"{weakest.name.lower()} bleef het onder voldoende; zie de toelichting per criterium."
        )
        reasons = {
            criterion: JOINT_REASONS["low" if level <= 2 else "mid" if level <= 3 else "high"]
            for criterion, level in levels.items()
        }
        deliberation.record_outcome(
            session, round_=round_, application=application, member=recorder,
            levels={k: str(v) for k, v in levels.items()}, reasons=reasons,
            suitable="yes" if suitable else "no", motivation=motivation,
        )  # fmt: skip


def hold_draw(session: Session, procedure: Procedure, actor: str) -> None:
    """When more suitable candidates tie at the last place than there are places, the
    observer and the chair commit to a secret, the draw is announced, both reveal."""
    ranked = draws.rank(session, procedure)
    if not ranked.needs_draw:
        return
    held = draws.prepare(
        session, actor=actor, procedure=procedure, chosen=ranked.tie, places=ranked.tie_places
    )
    hold_ceremony(session, procedure, held, actor)


def hold_ceremony(session: Session, procedure: Procedure, held: Draw, actor: str) -> None:
    """The observer and the chair commit to a secret, the draw is announced, both reveal."""
    chosen = {
        party.name: (party, session.get(ProcedureMember, party.member_id))
        for party in draws.contributors(session, held)
        if party.member_id is not None
    }
    secrets_ = {name: f"demo-{name}-{held.draw_id}-geheim" for name in chosen}
    for name, (_party, member) in chosen.items():
        ceremony.commit(
            session, procedure=procedure, draw=held, member=member,
            commitment=hashlib.sha256(secrets_[name].encode()).hexdigest(),
        )  # fmt: skip
    ceremony.announce(session, actor=actor, procedure=procedure, draw=held, beacon_name="")
    for name, (_party, member) in chosen.items():
        ceremony.reveal(
            session, procedure=procedure, draw=held, member=member, secret=secrets_[name]
        )


def complete_placement(
    session: Session, settings: Settings, procedure: Procedure, actor: str
) -> None:
    """A cluster's placement run to its close: the suitable candidates state their lists
    before the deadline, the lists are fixed, the ordering draw is held, round 1 is
    published, the first candidate placed declines and the others accept, round 2 gives the
    freed place down the order, everyone newly placed accepts, and the admin closes it."""
    deadline = procedure.preference_deadline
    assert deadline is not None
    hour = timedelta(hours=1)
    codes = [i.code for i in queries.institutions(session, procedure)]
    stating = deadline - timedelta(days=3)
    candidates = [
        application
        for application in scoring_round.invited_applications(session, procedure)
        if preferences.choice_for(session, procedure, application, stating) is not None
    ]
    for at, application in enumerate(sorted(candidates, key=lambda a: a.reference)):
        # Everyone wants UMC Utrecht or Meander most; some leave the farthest off.
        turned = codes[at % 2 :] + codes[: at % 2]
        wanted = turned[: len(turned) - (at % 3 == 2)]
        preferences.save(
            session, procedure=procedure, application=application, codes=wanted, now=stating
        )
    preferences.fix(session, procedure, now=deadline)
    for held in priority.prepare_draws(session, actor=actor, procedure=procedure):
        hold_ceremony(session, procedure, held, actor)
    first = placement_rounds.publish_next(
        session, settings, actor=actor, procedure=procedure, now=deadline + hour
    )
    by_reference = {a.reference: a for a in candidates}
    placed = [ref for ref, code in first.record["assignment"].items() if code]
    for ref in placed:
        placement_rounds.answer(
            session, settings, procedure=procedure, application=by_reference[ref],
            accept=ref != placed[0], now=deadline + 3 * hour,
        )  # fmt: skip
    second = placement_rounds.publish_next(
        session, settings, actor=actor, procedure=procedure,
        now=first.answers_due + hour,
    )  # fmt: skip
    for ref, code in second.record["assignment"].items():
        if code and ref not in placed:
            placement_rounds.answer(
                session, settings, procedure=procedure, application=by_reference[ref],
                accept=True, now=second.published_at + hour,
            )  # fmt: skip
    placement_rounds.close(
        session, settings, actor=actor, procedure=procedure, now=second.published_at + 2 * hour
    )


def is_loaded(session: Session) -> bool:
    return session.execute(select(Organisation.id).limit(1)).first() is not None


def load(database: Database, settings: Settings) -> list[DemoAccount]:
    """Load the demo into an empty database and return the accounts with their passwords."""
    signing_keys.activate(settings)  # checkpoints are signed with this installation's key
    accounts = [
        DemoAccount(role, email, name, secrets.token_urlsafe(9)) for role, email, name in ACCOUNTS
    ]
    with database.session(write=True) as session:
        users = {
            account.email: create_user(
                session,
                email=account.email,
                name=account.name,
                password=account.password,
                platform_admin=account.role == "platform admin",
            )
            for account in accounts
        }
        organisations = {
            "nva": procedure_organisations.create_organisation(
                session,
                actor="system",
                slug="nva",
                name="Nederlandse Vereniging voor Anesthesiologie",
                short_name="NVA",
            ),
            "niv": procedure_organisations.create_organisation(
                session,
                actor="system",
                slug="niv",
                name="Nederlandse Internisten Vereniging",
                short_name="NIV",
            ),
        }
        wv_admin = users["secretariaat.nva@example.org"]
        assert organisations["nva"].id is not None and wv_admin.id is not None
        session.add(OrganisationAdmin(organisation_id=organisations["nva"].id, user_id=wv_admin.id))
        session.commit()
        admin_actor = f"user:{wv_admin.id}"
        nva_committee = [
            (users["opleider@example.org"], "chair", "opleider"),
            (users["staflid@example.org"], "member", "staff"),
            (users["aios@example.org"], "member", "aios"),
            (users["waarnemer@example.org"], "observer", ""),
        ]
        niv_committee = [
            (_invitee(session, email, name), role, function)
            for email, name, role, function in NIV_COMMITTEE
        ]
        now = utcnow()
        demo_interviews.fill_pool(
            session, settings, {"Anesthesiologie": admin_actor, "Interne geneeskunde": "system"}
        )
        for spec in DEMO_PROCEDURES:
            nva = spec.organisation == "nva"
            committee = nva_committee if nva else niv_committee
            if spec.reference == demo_interviews.OOST:
                committee = [*demo_interviews.oost_committee(session), niv_committee[-1]]
            if spec.phase == Phase.DRAFT:
                # A draft still in the making, so the guideline check has something to say.
                committee = [m for m in committee if m[1] != "observer" and m[2] != "aios"]
            procedure = complete_procedure(
                session,
                settings,
                organisation=organisations[spec.organisation],
                spec=spec,
                committee=committee,
                actor=admin_actor if nva else "system",
                now=now,
                applicants=tuple(users[email] for email in APPLYING.get(spec.reference, ()))
                + _candidates(session, CANDIDATES.get(spec.reference, 0)),
                ties=TIES,
                before_interviews=(
                    functools.partial(
                        demo_interviews.hold_interview_days, session, settings,
                        actor="system", now=now,
                    )
                    if spec.reference == demo_interviews.OOST
                    else None
                ),
            )  # fmt: skip
            if spec.reference == "ANE-UTR-2025-2":
                complete_placement(session, settings, procedure, admin_actor)
            if spec.reference == "ANE-UTR-2026-2":
                _interviews_under_way(session, procedure, users, now)
            if spec.reference == "ANE-ZWN-2026-2":
                # Every outcome recorded: five suitable candidates for two places, so the
                # draw is due (the admin prepares it, the observer and the chair take part).
                record_outcomes(session, procedure)
            if spec.phase == Phase.DRAFT:
                editor.add_requirement(
                    session,
                    actor=admin_actor,
                    procedure=procedure,
                    kind="minimum",
                    text="Promotie afgerond of promotietraject gestart",
                    rationale="",
                )
    _save_accounts(settings.var_dir, accounts)
    return accounts


# Which demo applicants applied where (the first applicant has not applied to the open one yet).
APPLYING = {
    "ANE-UTR-2027-1": ("sollicitant2@example.org",),
    "INT-NN-2027-1": ("sollicitant1@example.org", "sollicitant2@example.org"),
    "ANE-UTR-2026-2": ("sollicitant1@example.org", "sollicitant2@example.org"),
    "ANE-ZWN-2026-2": ("sollicitant1@example.org", "sollicitant2@example.org"),
    # A published result to read: the level, its reason per criterion, the motivation.
    "ANE-UTR-2026-1": ("sollicitant1@example.org",),
    demo_interviews.OOST: ("sollicitant3@example.org",),
}

# Applicants without a demo login, so later procedures have a realistic round.
CANDIDATES = {
    "INT-AMS-2026-2": 7,
    "ANE-UTR-2026-1": 8,
    "ANE-UTR-2025-2": 8,
    "INT-ZUID-2025-2": 6,
    "ANE-ZWN-2026-2": 4,
    demo_interviews.OOST: 12,
}
CANDIDATE_NAMES = (
    "Noor de Boer", "Milan Peters", "Yara Hendriks", "Sem van Dijk", "Fleur Bos",
    "Ayoub El Idrissi", "Lieke Vermeulen", "Thijs Mulder", "Iris Kok", "Bram Jacobs",
    "Esra Yilmaz", "Ruben de Wit", "Julia Smits", "Kofi Mensah",
)  # fmt: skip
# Where some applicants work now: in INT-OOST-2027-1 panel B, with two members from
# Rijnstate, is not offered to the one who works there (a suggested conflict).
WORKPLACES = {"kandidaat7@example.org": "Rijnstate Arnhem", "sollicitant3@example.org": "CWZ"}
# An applicant declares knowing a committee member: that member does not score them.
TIES = {
    "kandidaat3@example.org": "aios.niv@example.org",
    # Knows a member of panel A of INT-OOST-2027-1: only panels B and C are offered.
    "kandidaat5@example.org": "p.vos@example.org",
}


def _interviews_under_way(
    session: Session, procedure: Procedure, users: dict[str, User], now: datetime
) -> None:
    """The staff member has submitted every sheet; the aios is halfway through one."""
    staff, trainee = users["staflid@example.org"].id, users["aios@example.org"].id
    score_everyone(session, procedure, now, only=lambda a, m: m.user_id == staff)
    score_everyone(
        session, procedure, now, submit=False,
        only=lambda a, m: m.user_id == trainee and a.reference.endswith("2"),
    )  # fmt: skip


def _candidates(session: Session, count: int) -> tuple[User, ...]:
    found = []
    for number in range(1, count + 1):
        email = f"kandidaat{number}@example.org"
        user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is None:
            name = CANDIDATE_NAMES[(number - 1) % len(CANDIDATE_NAMES)]
            user = User(email=email, name=name, email_verified_at=utcnow())
            session.add(user)
            session.commit()
        found.append(user)
    return tuple(found)


NIV_COMMITTEE = (
    ("opleider.niv@example.org", "prof. dr. Hanneke Smit", "chair", "opleider"),
    ("internist.niv@example.org", "dr. Youssef Benali", "member", "staff"),
    ("aios.niv@example.org", "Lotte de Graaf", "member", "aios"),
    ("vpk.niv@example.org", "Marieke Dijkstra", "member", "nurse"),
    ("waarnemer.niv@example.org", "dr. Peter Wouters (psycholoog)", "observer", ""),
)


def _invitee(session: Session, email: str, name: str) -> User:
    """A committee member without a demo login; they would accept an e-mailed invitation."""
    user = User(email=email, name=name)
    session.add(user)
    session.commit()
    return user


def _save_accounts(var_dir: Path, accounts: list[DemoAccount]) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / ACCOUNTS_FILE
    lines = [f"{a.role}\t{a.email}\t{a.password}" for a in accounts]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)


def saved_accounts(var_dir: Path) -> list[DemoAccount]:
    path = var_dir / ACCOUNTS_FILE
    if not path.exists():
        return []
    names = {email: name for _role, email, name in ACCOUNTS}
    result = []
    for line in path.read_text().splitlines():
        role, email, password = line.split("\t")
        result.append(DemoAccount(role, email, names.get(email, ""), password))
    return result


def describe(accounts: list[DemoAccount], base_url: str) -> str:
    width = max(len(a.role) for a in accounts)
    lines = [f"Demo accounts (log in at {base_url}/login):"]
    lines += [f"  {a.role:<{width}}  {a.email:<32}  {a.password}" for a in accounts]
    return "\n".join(lines)
