"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from app.accounts.models import LoginFailure, LoginSession, Mail, Token, User
from app.applications.models import (
    Application,
    Declaration,
    DiversityResponse,
    Document,
    LetterDecision,
)
from app.audit.models import AuditEntry, AuditHead
from app.procedures.models import (
    Correction,
    Organisation,
    OrganisationAdmin,
    Plus,
    Procedure,
    ProcedureMember,
    Requirement,
)

metadata = SQLModel.metadata

__all__ = [
    "Application",
    "AuditEntry",
    "AuditHead",
    "Correction",
    "Declaration",
    "DiversityResponse",
    "Document",
    "LetterDecision",
    "LoginFailure",
    "LoginSession",
    "Mail",
    "Organisation",
    "OrganisationAdmin",
    "Plus",
    "Procedure",
    "ProcedureMember",
    "Requirement",
    "Token",
    "User",
    "metadata",
]
