"""Demo data that looks real: two societies, procedures modelled on real programmes (see
shared/seeds) in every phase of their life, and an account for every role.

Passwords are random, made when the demo is loaded, and kept in var/demo-accounts.txt
(git-ignored) so `make run` can print them at every start.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, select

from app.accounts.models import User
from app.accounts.service import create_user
from app.config import Settings
from app.db import Database, utcnow
from app.procedures import service as procedures
from app.procedures.models import Organisation, OrganisationAdmin, Phase, Procedure

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
INT_DESCRIPTION = (
    "Opleiding tot internist volgens het Landelijk Opleidingsplan Interne geneeskunde "
    "(LOIG-2019), met stages in de academische en de opleidende ziekenhuizen van de regio."
)


def _procedures(now: datetime) -> list[dict[str, object]]:
    day = timedelta(days=1)
    return [
        dict(
            org="nva",
            reference="ANE-UTR-2027-1",
            phase=Phase.OPEN,
            places=4,
            title="Opleiding Anesthesiologie, Cluster Utrecht (voorjaar 2027)",
            specialty="Anesthesiologie",
            region=UTRECHT,
            description=ANE_DESCRIPTION,
            opens_at=now - 10 * day,
            closes_at=now + 21 * day,
            committee=True,
        ),
        dict(
            org="niv",
            reference="INT-BTG-2027-1",
            phase=Phase.PUBLISHED,
            places=1,
            title="Differentiatie Bloedtransfusiegeneeskunde, LUMC en Erasmus MC",
            specialty="Interne geneeskunde",
            region="LUMC Leiden en Erasmus MC Rotterdam",
            description=BTG_DESCRIPTION,
            opens_at=now + 14 * day,
            closes_at=now + 45 * day,
        ),
        dict(
            org="nva",
            reference="ANE-ZWN-2027-1",
            phase=Phase.CLOSED,
            places=3,
            title="Opleiding Anesthesiologie, regio Zuidwest-Nederland",
            specialty="Anesthesiologie",
            region="Erasmus MC en opleidingsziekenhuizen OOR ZWN",
            description="",
            opens_at=now - 40 * day,
            closes_at=now - 2 * day,
        ),
        dict(
            org="niv",
            reference="INT-NN-2027-1",
            phase=Phase.LETTER_ROUND,
            places=5,
            title="Opleiding Interne geneeskunde, Noord-Nederland",
            specialty="Interne geneeskunde",
            region="UMC Groningen en OOR Noord-Nederland",
            description=INT_DESCRIPTION,
            opens_at=now - 50 * day,
            closes_at=now - 12 * day,
        ),
        dict(
            org="nva",
            reference="ANE-UTR-2026-2",
            phase=Phase.INTERVIEWS,
            places=4,
            title="Opleiding Anesthesiologie, Cluster Utrecht (najaar 2026)",
            specialty="Anesthesiologie",
            region=UTRECHT,
            description=ANE_DESCRIPTION,
            opens_at=now - 80 * day,
            closes_at=now - 30 * day,
            committee=True,
        ),
        dict(
            org="niv",
            reference="INT-AMS-2026-2",
            phase=Phase.DELIBERATION,
            places=6,
            title="Opleiding Interne geneeskunde, OOR Amsterdam",
            specialty="Interne geneeskunde",
            region="Amsterdam UMC en OOR Amsterdam",
            description=INT_DESCRIPTION,
            opens_at=now - 100 * day,
            closes_at=now - 60 * day,
        ),
        dict(
            org="nva",
            reference="ANE-UTR-2026-1",
            phase=Phase.RESULTS,
            places=4,
            title="Opleiding Anesthesiologie, Cluster Utrecht (voorjaar 2026)",
            specialty="Anesthesiologie",
            region=UTRECHT,
            description=ANE_DESCRIPTION,
            opens_at=now - 220 * day,
            closes_at=now - 180 * day,
        ),
        dict(
            org="niv",
            reference="INT-ZUID-2025-2",
            phase=Phase.ARCHIVED,
            places=4,
            title="Opleiding Interne geneeskunde, OOR Zuid (najaar 2025)",
            specialty="Interne geneeskunde",
            region="Maastricht UMC+ en OOR Zuid",
            description=INT_DESCRIPTION,
            opens_at=now - 400 * day,
            closes_at=now - 360 * day,
        ),
        dict(
            org="nva",
            reference="ANE-UTR-2027-2",
            phase=Phase.DRAFT,
            places=4,
            title="Opleiding Anesthesiologie, Cluster Utrecht (najaar 2027)",
            specialty="Anesthesiologie",
            region=UTRECHT,
            description=ANE_DESCRIPTION,
            opens_at=now + 200 * day,
            closes_at=now + 230 * day,
        ),
    ]


def is_loaded(session: Session) -> bool:
    return session.execute(select(Organisation.id).limit(1)).first() is not None


def load(database: Database, settings: Settings) -> list[DemoAccount]:
    """Load the demo into an empty database and return the accounts with their passwords."""
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
            "nva": procedures.create_organisation(
                session,
                actor="system",
                slug="nva",
                name="Nederlandse Vereniging voor Anesthesiologie",
                short_name="NVA",
            ),
            "niv": procedures.create_organisation(
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
        for spec in _procedures(utcnow()):
            organisation = organisations[str(spec["org"])]
            procedure = procedures.create_procedure(
                session,
                actor=admin_actor if spec["org"] == "nva" else "system",
                organisation=organisation,
                reference=str(spec["reference"]),
                title=str(spec["title"]),
                specialty=str(spec["specialty"]),
                region=str(spec["region"]),
                places=int(spec["places"]),  # type: ignore[call-overload]
                description=str(spec["description"]),
                opens_at=spec["opens_at"],  # type: ignore[arg-type]
                closes_at=spec["closes_at"],  # type: ignore[arg-type]
            )
            if spec.get("committee"):
                _compose_committee(session, settings, procedure, users, admin_actor)
            target = Phase(str(spec["phase"]))
            for phase in list(Phase)[1 : list(Phase).index(target) + 1]:
                procedures.advance_phase(session, actor=admin_actor, procedure=procedure, to=phase)
    _save_accounts(settings.var_dir, accounts)
    return accounts


def _compose_committee(
    session: Session,
    settings: Settings,
    procedure: Procedure,
    users: dict[str, User],
    actor: str,
) -> None:
    for email, role, function in (
        ("opleider@example.org", "chair", "opleider"),
        ("staflid@example.org", "member", "staff"),
        ("aios@example.org", "member", "aios"),
        ("waarnemer@example.org", "observer", ""),
    ):
        user = users[email]
        procedures.invite_to_procedure(
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
