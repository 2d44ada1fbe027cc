"""Every model, imported here so that Alembic and the app see the whole schema."""
from app.models.agreement import Agreement, AgreementParty, Payout
from app.models.assessment import AssessmentScheme, AssessmentSheet, PlanTarget
from app.models.attachment import Attachment
from app.models.audit import AuditEntry, ChangeLogEntry, OutboxEntry
from app.models.base import Base, Synced, utcnow
from app.models.counter import NumberCounter
from app.models.node import NodeIdentity
from app.models.people import Commissioner, ServiceTarget
from app.models.reference import Cluster, Place, ServiceTeam, Site, Station
from app.models.sync import AppliedOperation, Peer, SentFile, SyncConflict, SyncRun, Upstream
from app.models.training import Training, TrainingAttendee
from app.models.user import LoginAttempt, User
from app.models.visit import Visit

__all__ = [
    "Agreement", "AgreementParty", "AppliedOperation", "AssessmentScheme", "AssessmentSheet",
    "Attachment", "AuditEntry", "Base",
    "ChangeLogEntry", "Cluster", "Commissioner", "LoginAttempt", "NodeIdentity", "NumberCounter",
    "OutboxEntry",
    "Payout", "Peer", "Place", "PlanTarget", "SentFile", "ServiceTarget", "ServiceTeam", "Site", "Station",
    "SyncConflict", "SyncRun", "Synced", "Training", "TrainingAttendee", "Upstream", "User",
    "Visit", "utcnow",
]
