"""Every model, imported here so that Alembic and the app see the whole schema."""
from app.models.attachment import Attachment
from app.models.audit import AuditEntry, ChangeLogEntry, OutboxEntry
from app.models.base import Base, Synced, utcnow
from app.models.node import NodeIdentity
from app.models.people import Commissioner, ServiceTarget
from app.models.reference import Cluster, Place, ServiceTeam, Site, Station
from app.models.sync import AppliedOperation, Peer, SyncConflict, SyncRun, Upstream
from app.models.user import LoginAttempt, User
from app.models.visit import Visit

__all__ = [
    "AppliedOperation", "Attachment", "AuditEntry", "Base", "ChangeLogEntry", "Cluster", "Commissioner", "LoginAttempt", "NodeIdentity",
    "OutboxEntry", "Peer", "Place", "ServiceTarget", "ServiceTeam", "Site", "Station", "SyncConflict", "SyncRun", "Synced", "Upstream",
    "User", "Visit", "utcnow",
]
