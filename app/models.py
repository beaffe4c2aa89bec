"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from app.accounts.models import LoginFailure, LoginSession, Mail, MailRequest, Token, User
from app.applications.models import (
    Application,
    Declaration,
    DiversityResponse,
    Document,
    DocumentBlob,
    LetterDecision,
)
from app.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from app.interviews.models import Booking, InterviewSlot, Panel, PanelMember
from app.jobs.models import LocalJob
from app.lottery.models import DeclinedPlace, Draw, DrawContributor
from app.oversight.models import Remark, ReportPdf, SignOff
from app.placement.models import PlacementOffer, PlacementRound, PreferenceList
from app.pool.models import PoolEntry
from app.procedures.models import (
    Correction,
    Institution,
    Organisation,
    OrganisationAdmin,
    Plus,
    Procedure,
    ProcedureMember,
    Requirement,
)
from app.scoring.models import JointOutcome, MemberConflict, ReserveAssignment, ScoreSheet

metadata = SQLModel.metadata

__all__ = [
    "Application",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "Booking",
    "Correction",
    "Declaration",
    "DeclinedPlace",
    "DiversityResponse",
    "Document",
    "DocumentBlob",
    "Draw",
    "DrawContributor",
    "Institution",
    "InterviewSlot",
    "JointOutcome",
    "LetterDecision",
    "LocalJob",
    "LoginFailure",
    "LoginSession",
    "Mail",
    "MailRequest",
    "MemberConflict",
    "Organisation",
    "OrganisationAdmin",
    "Panel",
    "PanelMember",
    "PlacementOffer",
    "PlacementRound",
    "Plus",
    "PoolEntry",
    "PreferenceList",
    "Procedure",
    "ProcedureMember",
    "Remark",
    "ReportPdf",
    "Requirement",
    "ReserveAssignment",
    "ScoreSheet",
    "SignOff",
    "Token",
    "User",
    "metadata",
]
