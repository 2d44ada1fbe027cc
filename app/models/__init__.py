"""Every model, imported here so that Alembic and the app see the whole schema."""
from app.models.audit import AuditEntry, OutboxEntry
from app.models.base import Base, Synced, utcnow
from app.models.node import NodeIdentity
from app.models.people import Commissioner, ServiceTarget
from app.models.reference import Cluster, Place, ServiceTeam, Site, Station
from app.models.user import LoginAttempt, User

__all__ = [
    "AuditEntry", "Base", "Cluster", "Commissioner", "LoginAttempt", "NodeIdentity",
    "OutboxEntry", "Place", "ServiceTarget", "ServiceTeam", "Site", "Station", "Synced",
    "User", "utcnow",
]
