"""Who may do what, in one place: roles, permissions, node scoping, what each role reads
of its node (``COMMISSIONER_READS``) and PII masking."""
from functools import wraps

from flask import abort
from flask_login import current_user
from sqlalchemy import and_, false, or_, select

from app.core import authority
from app.core.extensions import db
from app.core.node import visible
from app.models import (
    Agreement,
    AgreementParty,
    AssessmentScheme,
    AssessmentSheet,
    Attachment,
    Cluster,
    Commissioner,
    Payout,
    Place,
    ServiceTarget,
    Site,
    Station,
    Training,
    TrainingAttendee,
    Visit,
)
from app.models.training import training_trainers
from app.models.visit import visit_commissioners

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
    # plan targets and assessment schemes: authored above the station (app/models/assessment.py)
    "edit_goals": ("league_admin", "region_admin"),
    "edit_schemes": ("league_admin", "region_admin"),
    # a station prepares and submits its sheets; a league reviewer grades or returns them
    "prepare_assessments": ("station_staff", "station_admin"),
    "grade_assessments": ("league_reviewer", "league_admin", "region_admin"),
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


# Read scope by role, declared once. Every role reads its node's subtree and what its
# ancestors publish (app/core/node.py ``visible``); station staff and admins, league and region
# roles read all of it. A commissioner reads, of their station's records, only:
#   - visits they are among the commissioners of,
#   - agreements they are a live party to, with those agreements' parties and payouts,
#   - trainings they are among the trainers of, with those trainings' attendees,
#   - their own commissioner record, and their own assessment sheets (and the schemes),
#   - the attachments (photos, scans, sign-in sheets, a sheet's evidence files) of the
#     records above, to read (a sheet's files are added by the station),
#   - the reference data the forms need: places, clusters, stations and their sites, and
#     service targets (a visit names the targets it served, an agreement its counterpart).
# Everything else of the station (colleagues' records, service teams) is a 404 to them,
# in lists, counts, exports and files alike. ``scoped`` and ``get_or_404`` apply this; a
# list that builds its own select starts from one of them (or adds ``read_condition``).

def _own_visits(commissioner_id):
    return select(visit_commissioners.c.visit_id).where(
        visit_commissioners.c.commissioner_id == commissioner_id)


def _own_agreements(commissioner_id):
    return select(AgreementParty.agreement_id).where(
        AgreementParty.commissioner_id == commissioner_id, AgreementParty.deleted_at.is_(None))


def _own_trainings(commissioner_id):
    return select(training_trainers.c.training_id).where(
        training_trainers.c.commissioner_id == commissioner_id)


def _own_sheets(commissioner_id):
    return select(AssessmentSheet.id).where(AssessmentSheet.commissioner_id == commissioner_id)


def _own_attachments(commissioner_id):
    return or_(*(and_(Attachment.record_type == record_type, Attachment.record_id.in_(ids))
                 for record_type, ids in (("visit", _own_visits(commissioner_id)),
                                          ("agreement", _own_agreements(commissioner_id)),
                                          ("training", _own_trainings(commissioner_id)),
                                          ("assessment_sheet", _own_sheets(commissioner_id)))))


REFERENCE_DATA = (Place, Cluster, Station, Site, ServiceTarget)

# {model: condition on its records given the commissioner's id}; None: all of the node's.
# A model not named here is not read by a commissioner at all.
COMMISSIONER_READS = {
    **{model: None for model in REFERENCE_DATA},
    Visit: lambda cid: Visit.id.in_(_own_visits(cid)),
    Agreement: lambda cid: Agreement.id.in_(_own_agreements(cid)),
    AgreementParty: lambda cid: AgreementParty.agreement_id.in_(_own_agreements(cid)),
    Payout: lambda cid: Payout.agreement_id.in_(_own_agreements(cid)),
    Training: lambda cid: Training.id.in_(_own_trainings(cid)),
    TrainingAttendee: lambda cid: TrainingAttendee.training_id.in_(_own_trainings(cid)),
    Commissioner: lambda cid: Commissioner.id == cid,
    AssessmentSheet: lambda cid: AssessmentSheet.commissioner_id == cid,
    AssessmentScheme: None,
    Attachment: _own_attachments,
}


def reads_narrowly(user=None) -> bool:
    """Does the user read less than their node's subtree (a commissioner)?"""
    user = user or current_user
    return user.role == "commissioner"


def read_condition(model, user=None):
    """The condition the user's role adds to their node's scope for this model's records
    (the declaration above), or None when they read all of the node's."""
    user = user or current_user
    if not reads_narrowly(user):
        return None
    if model not in COMMISSIONER_READS:
        return false()
    condition = COMMISSIONER_READS[model]
    return None if condition is None else condition(user.commissioner_id or "")


def reading_scope(user=None) -> tuple:
    """What a remembered answer (app/core/cache.py) read through ``scoped`` depends on besides
    the data: the node, and for a commissioner who they are. Put it in cache keys."""
    user = user or current_user
    return (user.node_code, (user.commissioner_id or "") if reads_narrowly(user) else None)


def node_scoped(model, user=None, deleted: bool = False):
    """A select of the model's records of the user's node's scope, whatever the role
    reads: for checks that are not reading (may a record refer to that one, is a
    number taken), never for showing records."""
    user = user or current_user
    alive = model.deleted_at.is_not(None) if deleted else model.deleted_at.is_(None)
    return select(model).where(visible(model.owner_node, user.node_code), alive)


def scoped(model, user=None, deleted: bool = False):
    """A select of the model's records that the user may read: their node's scope
    narrowed by their role (the declaration above); the live ones, or with ``deleted``
    the soft-deleted ones (for an admin to restore)."""
    user = user or current_user
    stmt = node_scoped(model, user, deleted)
    condition = read_condition(model, user)
    return stmt if condition is None else stmt.where(condition)


def get_or_404(model, record_id: str, *, include_deleted: bool = False, user=None, options=()):
    """One record the user may read, or 404 (another node's record, or one their role
    does not read, is a 404 too); ``options`` load its relations with it (its page shows
    them: one query, where loading each as the page asked for it took one apiece)."""
    user = user or current_user
    stmt = select(model).options(*options).where(model.id == record_id,
                                                 visible(model.owner_node, user.node_code))
    if not include_deleted:
        stmt = stmt.where(model.deleted_at.is_(None))
    condition = read_condition(model, user)
    if condition is not None:
        stmt = stmt.where(condition)
    record = db.session.scalar(stmt)
    if record is None:
        abort(404)
    return record


def writable(record, user=None) -> bool:
    """May the user's node change this record's own content (edit, delete, restore)?
    Only its own records. A node above changes a record of a node below only in the
    fields it authors (a league's review: app/core/authority.py), and what an ancestor
    publishes (shipped places, the region's clusters) is read-only below it."""
    user = user or current_user
    return (record.owner_node or "") == user.node_code


def may_write(record, fields, user=None) -> bool:
    """May the user's node set these fields of this record? The declaration of who
    authors which field (app/core/authority.py), the same one the upstream applies to a push."""
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
