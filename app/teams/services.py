"""Service team rules and writes: the leader is a member, and a name is used by one
live team of a node at a time."""
from dataclasses import dataclass

from flask_login import current_user
from sqlalchemy import bindparam, func, select

from app.core import records
from app.core.database import AtOnce, rows_at_once
from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.security import scoped
from app.models import Cluster, Commissioner, ServiceTeam
from app.models.reference import team_members


def errors(data: dict, team: ServiceTeam | None = None) -> dict:
    """{field: message} for what the rules do not allow."""
    found = {}
    if data.get("leader_id") and data["leader_id"] not in (data.get("member_ids") or []):
        found["leader_id"] = _l("The leader must be one of the members: tick them among the members too.")
    owner = team.owner_node if team is not None else current_user.node_code
    same_name = select(ServiceTeam.id).where(
        ServiceTeam.owner_node == owner, ServiceTeam.deleted_at.is_(None),
        ServiceTeam.name == (data.get("name") or "").strip())
    if team is not None:
        same_name = same_name.where(ServiceTeam.id != team.id)
    if data.get("name") and db.session.scalar(same_name.limit(1)):
        found["name"] = _l("Another service team already has this name.")
    return found


def _visible(model, ids) -> list:
    if not ids:
        return []
    return db.session.scalars(scoped(model).where(model.id.in_(ids))).all()


def save(team: ServiceTeam | None, data: dict) -> ServiceTeam:
    """Create (owned by the user's node) or update a team from checked form data.
    Members and leader are taken only from commissioners the node may see; members
    already on the team whom the node no longer sees (deleted) are kept."""
    data = dict(data)
    ids = data.pop("member_ids", [])
    members = _visible(Commissioner, ids)
    if team is not None:
        members += [m for m in team.members if m.id in ids and m not in members]
    data["members"] = members
    data["leader_id"] = data.get("leader_id") if any(m.id == data.get("leader_id")
                                                      for m in members) else None
    cluster = _visible(Cluster, [data["cluster_id"]] if data.get("cluster_id") else [])
    data["cluster_id"] = cluster[0].id if cluster else None
    if team is None:
        return records.create(ServiceTeam(), data)
    return records.update(team, data)


def restore(team: ServiceTeam) -> str | None:
    """Restore a deleted team, unless a live one of its node now has its name; returns why not."""
    if errors({"name": team.name}, team):
        return _("Another service team already has this name: rename it before restoring "
                 "this one.")
    records.restore(team)
    return None


def member_counts(team_ids: list) -> dict:
    """{team id: how many members it has} for the teams of a list page (a count, not the
    members' records), read at once."""
    if not team_ids:
        return {}
    return dict(rows_at_once(db.session, select(team_members.c.team_id, func.count()).where(
        team_members.c.team_id.in_(team_ids)).group_by(team_members.c.team_id)))


@dataclass
class MemberLine:
    """A member of a team, as the team's page lists it."""
    id: str
    name: str
    specialty: str
    deleted: bool


_MEMBERS = AtOnce(
    select(Commissioner.id, Commissioner.name, Commissioner.specialty, Commissioner.deleted_at)
    .join(team_members, team_members.c.commissioner_id == Commissioner.id)
    .where(team_members.c.team_id == bindparam("team_id")))


def members(team_id: str) -> list[MemberLine]:
    """The team's members by name, read at once (as ORM records, a row of the database
    apiece)."""
    found = sorted(_MEMBERS.rows(db.session, team_id=team_id), key=lambda row: (row[1], row[0]))
    return [MemberLine(id_, name, specialty or "", deleted_at is not None)
            for id_, name, specialty, deleted_at in found]


def filtered(args: dict):
    """The team list's select for the filters in ``args`` (the query string)."""
    stmt = scoped(ServiceTeam, deleted=args.get("show") == "deleted")
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(records.matching(q, ServiceTeam.name, ServiceTeam.notes))
    if args.get("cluster"):
        stmt = stmt.where(ServiceTeam.cluster_id == args["cluster"])
    return stmt.order_by(ServiceTeam.name, ServiceTeam.id)
