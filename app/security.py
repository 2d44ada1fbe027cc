"""Who may do what, in one place: roles, permissions, node scoping and PII masking."""
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import select

from app import authority
from app.extensions import db
from app.node import visible

STATION_ROLES = ("commissioner", "station_staff", "station_admin")
LEAGUE_ROLES = ("league_reviewer", "league_admin")
ADMIN_ROLES = ("station_admin", "league_admin", "region_admin")

PERMISSIONS = {
    "manage_users": ADMIN_ROLES,
    "edit_records": ("station_staff", "station_admin", "league_admin", "region_admin"),
    "delete_records": ("station_staff", "station_admin", "league_admin", "region_admin"),
    "restore_records": ADMIN_ROLES,
    "edit_clusters": ("league_admin", "region_admin"),
    "import_records": ("station_staff", "station_admin", "league_admin", "region_admin"),
    "see_phone": ("station_staff", "station_admin", "league_admin", "region_admin"),
    "see_id_number": ADMIN_ROLES,
    "sync_now": ("station_staff", "station_admin", "league_admin", "region_admin"),
    "resolve_conflicts": ("station_staff", "station_admin", "league_admin", "region_admin"),
    "manage_sync": ADMIN_ROLES,
    "review_records": ("league_reviewer", "league_admin", "region_admin"),
    "manage_backups": ("station_admin",),  # a league schedules `flask backup` (README)
}


def can(permission: str, user=None) -> bool:
    user = user or current_user
    return bool(user and user.is_authenticated and user.role in PERMISSIONS[permission])


def require(permission: str):
    """View decorator: 403 unless the current user has the permission."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not can(permission):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def scoped(model, user=None, deleted: bool = False):
    """A select of the model's records that the user's node may see: the live ones, or
    with ``deleted`` the soft-deleted ones (for an admin to restore)."""
    user = user or current_user
    alive = model.deleted_at.is_not(None) if deleted else model.deleted_at.is_(None)
    return select(model).where(visible(model.owner_node, user.node_code), alive)


def get_or_404(model, record_id: str, *, include_deleted: bool = False, user=None):
    """One record the user may see, or 404 (another node's record is a 404 too)."""
    user = user or current_user
    stmt = select(model).where(model.id == record_id, visible(model.owner_node, user.node_code))
    if not include_deleted:
        stmt = stmt.where(model.deleted_at.is_(None))
    record = db.session.scalar(stmt)
    if record is None:
        abort(404)
    return record


def writable(record, user=None) -> bool:
    """May the user's node change this record's own content (edit, delete, restore)?
    Only its own records. A node above changes a record of a node below only in the
    fields it authors (a league's review: app/authority.py), and what an ancestor
    publishes (shipped places, the region's clusters) is read-only below it."""
    user = user or current_user
    return (record.owner_node or "") == user.node_code


def may_write(record, fields, user=None) -> bool:
    """May the user's node set these fields of this record? The declaration of who
    authors which field (app/authority.py), the same one the upstream applies to a push."""
    user = user or current_user
    owner = record.owner_node or user.node_code
    return all(authority.may_edit(type(record), key, owner, user.node_code) for key in fields)


def mask(value: str, keep_start: int = 3, keep_end: int = 4) -> str:
    """``13812345678`` → ``138****5678``; short values are masked whole."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


def shown_phone(value: str, owner_commissioner_id: str | None = None) -> str:
    """A phone number as the current user may see it."""
    if can("see_phone") or _is_own(owner_commissioner_id):
        return value
    return mask(value)


def shown_id_number(value: str, owner_commissioner_id: str | None = None) -> str:
    """An ID number as the current user may see it (only admins and its owner see it whole)."""
    if can("see_id_number") or _is_own(owner_commissioner_id):
        return value
    return mask(value, 4, 2)


def _is_own(commissioner_id) -> bool:
    return bool(commissioner_id and current_user.is_authenticated
                and current_user.commissioner_id == commissioner_id)


ASSIGNABLE_ROLES = {
    "station_admin": STATION_ROLES,
    "league_admin": LEAGUE_ROLES,
    "region_admin": ("region_admin",),
}


def assignable_roles(user=None) -> tuple[str, ...]:
    """The roles an admin may give to accounts on their own node."""
    user = user or current_user
    return ASSIGNABLE_ROLES.get(user.role, ())


def local_url(target: str | None, default: str) -> str:
    """``target`` when it is a path on this site, else ``default``: no open redirects.
    Browsers read a backslash as a slash, so ``/\\evil.example`` is refused too."""
    if target and target.startswith("/") and not target.startswith("//") \
            and "\\" not in target and not any(ord(c) < 32 for c in target):
        return target
    return default
