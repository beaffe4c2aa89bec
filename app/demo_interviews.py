"""Demo data for the interview days: a national pool of forty assessors across the two
societies, and an internal-medicine procedure in Oost-Nederland whose committee was composed
from it, divided into three panels that interview on two days, with most invited
applicants booked already.

Everything goes through the services, as the pages would do it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.applications.models import Application
from app.config import Settings
from app.interviews import panels as interview_panels
from app.interviews import schedule
from app.pool import service as pool
from app.pool.models import PoolEntry
from app.procedures.models import Procedure, ProcedureMember


@dataclass(frozen=True)
class PoolPerson:
    email: str
    name: str
    function: str
    specialty: str
    institution: str
    region: str
    trained: bool = True  # both courses on record
    bias: bool = True  # the bias-awareness course on record (when trained is False)


SPECIALTIES = {"ANE": "Anesthesiologie", "INT": "Interne geneeskunde"}
# e-mail (at example.org) | name ("-": the account's own) | function | specialty (ANE, INT) |
# institution | region | training on record ("yes": both courses, "bias": bias awareness
# only, "no": none).
# The demo accounts and committee members who keep a pool record themselves:
OWN_RECORDS = """
opleider | - | opleider | ANE | UMC Utrecht | Utrecht | yes
staflid | - | staff | ANE | Meander Medisch Centrum | Utrecht | yes
aios | - | aios | ANE | UMC Utrecht | Utrecht | yes
panellid | - | staff | INT | Rijnstate Arnhem | Oost-Nederland | yes
"""
# Added by a society's admin (they were told, and may correct their record):
ADDED = """
opleider.niv | - | opleider | INT | UMCG | Noord-Nederland | yes
internist.niv | - | staff | INT | Martini Ziekenhuis | Noord-Nederland | yes
aios.niv | - | aios | INT | UMCG | Noord-Nederland | yes
vpk.niv | - | nurse | INT | UMCG | Noord-Nederland | bias
g.willems | prof. dr. Gerard Willems | opleider | INT | Radboudumc | Oost-Nederland | yes
m.kramer | dr. Merel Kramer | opleider | INT | Rijnstate Arnhem | Oost-Nederland | yes
h.aydin | dr. Hatice Aydın | opleider | INT | Medisch Spectrum Twente | Oost-Nederland | yes
p.vos | dr. Pieter Vos | staff | INT | Radboudumc | Oost-Nederland | yes
a.nguyen | dr. An Nguyen | staff | INT | Medisch Spectrum Twente | Oost-Nederland | yes
e.jansen | Emma Jansen | aios | INT | Radboudumc | Oost-Nederland | yes
t.brouwer | Tim Brouwer | aios | INT | Rijnstate Arnhem | Oost-Nederland | yes
s.amrani | Salma Amrani | aios | INT | Ziekenhuis Gelderse Vallei | Oost-Nederland | yes
j.postma | Jeroen Postma | nurse | INT | Canisius Wilhelmina Ziekenhuis | Oost-Nederland | yes
l.meijer | dr. Linda Meijer | staff | INT | Ziekenhuis Gelderse Vallei | Oost-Nederland | bias
k.boateng | Kwame Boateng | aios | INT | Medisch Spectrum Twente | Oost-Nederland | no
r.dekker | dr. Rik Dekker | opleider | ANE | Erasmus MC | Zuidwest-Nederland | yes
i.schouten | dr. Inge Schouten | staff | ANE | Amphia Breda | Zuidwest-Nederland | yes
y.bakri | Yusuf Bakri | aios | ANE | Erasmus MC | Zuidwest-Nederland | yes
c.peeters | dr. Carla Peeters | opleider | ANE | Maastricht UMC+ | Zuidoost-Nederland | yes
d.lambert | Daan Lambert | aios | ANE | Catharina Ziekenhuis | Zuidoost-Nederland | bias
n.verhoef | dr. Nina Verhoef | staff | ANE | LUMC | Leiden | yes
b.huisman | Bas Huisman | nurse | ANE | LUMC | Leiden | yes
f.koster | dr. Femke Koster | opleider | ANE | Amsterdam UMC | Amsterdam | yes
o.demir | Onur Demir | aios | ANE | OLVG | Amsterdam | yes
w.smit | dr. Wouter Smit | staff | ANE | Isala Zwolle | Oost-Nederland | yes
h.mulder | Hanna Mulder | aios | ANE | St. Antonius Ziekenhuis | Utrecht | yes
g.desmet | dr. Geert de Smet | staff | INT | Amsterdam UMC | Amsterdam | yes
m.chen | Mei Chen | aios | INT | OLVG | Amsterdam | yes
s.vanleeuwen | dr. Sophie van Leeuwen | opleider | INT | LUMC | Leiden | yes
t.hoekstra | Thomas Hoekstra | aios | INT | Haaglanden MC | Leiden | no
a.rossi | dr. Alessandra Rossi | staff | INT | Maastricht UMC+ | Zuidoost-Nederland | yes
r.elhaddad | Rachid El Haddad | nurse | INT | Maxima MC | Zuidoost-Nederland | yes
j.dejong | dr. Jan de Jong | opleider | INT | Erasmus MC | Zuidwest-Nederland | yes
v.bos | Vera Bos | aios | INT | Albert Schweitzer Ziekenhuis | Zuidwest-Nederland | yes
m.wiersma | Marit Wiersma | aios | INT | Medisch Centrum Leeuwarden | Noord-Nederland | yes
e.kuipers | dr. Evert Kuipers | staff | INT | UMC Utrecht | Utrecht | yes
"""


def people(table: str) -> list[PoolPerson]:
    found = []
    for line in table.strip().splitlines():
        email, name, function, specialty, institution, region, training = (
            part.strip() for part in line.split("|")
        )
        found.append(
            PoolPerson(
                f"{email}@example.org", "" if name == "-" else name, function,
                SPECIALTIES[specialty], institution, region,
                trained=training == "yes", bias=training in ("yes", "bias"),
            )
        )  # fmt: skip
    return found


# The panels of INT-OOST-2027-1, each an opleider or staff specialist, a second specialist
# and an aios (the model example's mix); the first named chairs the committee.
OOST = "INT-OOST-2027-1"
PANELS = (
    ("Panel A", ("g.willems@example.org", "p.vos@example.org", "e.jansen@example.org")),
    ("Panel B", ("m.kramer@example.org", "panellid@example.org", "t.brouwer@example.org")),
    ("Panel C", ("h.aydin@example.org", "a.nguyen@example.org", "s.amrani@example.org")),
)
# Invited applicants who book their interview in the demo (the others still have to).
BOOKED = 9


def _record(person: PoolPerson) -> pool.Record:
    starr, bias = date(2024, 9, 12), date(2025, 1, 23)
    return pool.Record(
        function=person.function,
        specialty=person.specialty,
        institution=person.institution,
        region=person.region,
        starr_course="STARR-interviewen voor selectiecommissies" if person.trained else "",
        starr_on=starr.isoformat() if person.trained else "",
        bias_course="Onbewuste vooroordelen bij selectie" if person.trained or person.bias else "",
        bias_on=bias.isoformat() if person.trained or person.bias else "",
    )


def fill_pool(session: Session, settings: Settings, admins: dict[str, str]) -> None:
    """The pool: the demo's assessors keep their own records; the others were added by the
    admin of their specialty's society (`admins` maps a specialty to an actor)."""
    for person in people(OWN_RECORDS):
        user = session.execute(select(User).where(User.email == person.email)).scalar_one()
        pool.save_own(session, actor=f"user:{user.id}", user=user, form=_record(person))
    for person in people(ADDED):
        existing = session.execute(
            select(User).where(User.email == person.email)
        ).scalar_one_or_none()
        pool.add_person(
            session,
            settings,
            actor=admins[person.specialty],
            email=person.email,
            name=existing.name if existing else person.name,
            form=_record(person),
        )


def oost_committee(session: Session) -> list[tuple[User, str, str]]:
    """The committee of INT-OOST-2027-1 as composed from the pool: function and training as
    their pool records say; the first of panel A chairs."""
    chosen = []
    for _panel, emails in PANELS:
        for email in emails:
            user = session.execute(select(User).where(User.email == email)).scalar_one()
            entry = session.execute(
                select(PoolEntry).where(PoolEntry.user_id == user.id)
            ).scalar_one()
            role = "chair" if email == PANELS[0][1][0] else "member"
            chosen.append((user, role, entry.function))
    return chosen


def hold_interview_days(
    session: Session, settings: Settings, procedure: Procedure, *, actor: str, now: datetime
) -> None:
    """Three panels seated, the slots generated, and the first applicants booked, a few days
    ago (a slot is booked at the latest a day before it)."""
    by_email = {
        user.email: member
        for member, user in session.execute(
            select(ProcedureMember, User)
            .join(User, User.id == ProcedureMember.user_id)  # type: ignore[arg-type]
            .where(ProcedureMember.procedure_id == procedure.id)
        ).all()
    }
    for name, emails in PANELS:
        panel = interview_panels.add_panel(session, actor=actor, procedure=procedure, name=name)
        for email in emails:
            interview_panels.seat_member(
                session, actor=actor, procedure=procedure, member=by_email[email], panel=panel
            )
    schedule.generate(session, actor=actor, procedure=procedure)
    applications = session.execute(
        select(Application)
        .where(Application.procedure_id == procedure.id)
        .order_by(col(Application.reference))
    ).scalars()
    # The first (the demo's own applicant) is left to book on the page.
    for number, application in enumerate(list(applications)[1 : BOOKED + 1]):
        when = now - timedelta(days=3, hours=BOOKED - number)
        mine = schedule.mine(session, procedure, application, when)
        if mine is None or not mine.offers:
            continue
        # The earliest free time, as most people choose: today's fill up first.
        choice = mine.offers[0]
        assert choice.slot.id is not None
        schedule.book(
            session,
            settings,
            procedure=procedure,
            application=application,
            slot_id=choice.slot.id,
            now=when,
        )
