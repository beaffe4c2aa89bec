"""Every table, imported in one place so Alembic and the tests see the whole schema."""

from sqlmodel import SQLModel

from app.accounts.models import LoginFailure, LoginSession, Mail, Token, User
from app.audit.models import AuditEntry, AuditHead
from app.procedures.models import Organisation, OrganisationAdmin, Procedure, ProcedureMember

metadata = SQLModel.metadata

__all__ = [
    "AuditEntry",
    "AuditHead",
    "LoginFailure",
    "LoginSession",
    "Mail",
    "Organisation",
    "OrganisationAdmin",
    "Procedure",
    "ProcedureMember",
    "Token",
    "User",
    "metadata",
]
