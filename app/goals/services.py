"""Plan targets: the action plan's numbers shipped as data, the rules of an edit, and
each target's progress counted from the records with aggregate SQL.

A target counts the live records of its scope node's subtree that the reader can see
(their own node's subtree): a league reads its counties' progress against the region's
target, a station its own contribution."""
from datetime import date

from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import distinct, func, select

from app.core import cache, records
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.core.node import subtree
from app.core.security import reading_scope, scoped
from app.goals.vocab import DATED, INDICATORS
from app.models import Cluster, Commissioner, Place, PlanTarget, ServiceTeam, Site, Station
from app.models.shipped import REGION_CODE, shipped_id

PLAN_START = date(2021, 5, 20)  # 内科发农字〔2021〕1 号
PLAN_END = date(2023, 12, 31)   # 到2023年底

# (indicator, value, the policy's words), shipped with the program, owned by the region.
SHIPPED_GOALS = [
    ("new_stations", 30, "到2023年底,自治区新备案30家以上自治区科技特派员工作站"),
    ("clusters_with_team", 11, "重点围绕自治区11个百亿元以上农牧业产业集群,"
                               "引导高校院所推动组建相应科技特派员产业服务团"),
    ("trial_stations", 10, "依托自治区科技特派员专家工作站部署乡村振兴综合试验站 10 个"),
    ("industry_bases", 50, "依托自治区科技特派员专家工作站部署特色产业基地 50 个"),
    ("service_points", 100, "依托自治区科技特派员专家工作站部署科技服务点 100 个"),
]


def load_shipped_goals() -> int:
    """Add any of the action plan's targets that this node does not have yet."""
    have = set(db.session.scalars(select(PlanTarget.id)))
    added = 0
    for order, (indicator, value, wording) in enumerate(SHIPPED_GOALS, start=1):
        goal_id = shipped_id("plan_target", indicator)
        if goal_id not in have:
            db.session.add(PlanTarget(
                id=goal_id, indicator=indicator, scope=REGION_CODE, value=value, wording=wording,
                starts_on=PLAN_START if indicator in DATED else None, deadline=PLAN_END,
                sort_order=order * 10, owner_node=REGION_CODE, origin_node=REGION_CODE))
            added += 1
    db.session.flush()
    return added


def scope_choices(user=None) -> list[tuple[str, str]]:
    """The nodes a target of this user's node may be set for: the node and the
    leagues and counties below it (by the shipped places)."""
    user = user or current_user
    mine = user.node_code
    rows = db.session.execute(
        select(Place.code, Place.name).where(Place.code.is_not(None), Place.deleted_at.is_(None),
                                             Place.code.startswith(mine), Place.code != mine,
                                             Place.level.in_(("league", "county")))
        .order_by(Place.code)).all()
    own = db.session.scalar(select(Place.name).where(Place.code == mine).limit(1)) or mine
    return [(mine, own)] + [(code, name) for code, name in rows]


def errors(data: dict, record: PlanTarget | None = None) -> dict:
    """{field: message}: a known indicator, a scope in the user's subtree, a value of at
    least 1, and a window that ends no earlier than it starts."""
    user = current_user
    found = {}
    if data.get("indicator") not in INDICATORS:
        found["indicator"] = _l("Choose what the target counts.")
    scope = data.get("scope") or ""
    if not (scope == user.node_code or (scope.startswith(user.node_code)
                                        and "-" not in user.node_code)):
        found["scope"] = _l("A target can only be set for your node or a node below it.")
    if not isinstance(data.get("value"), int) or data["value"] < 1:
        found["value"] = _l("Enter a whole number of at least 1.")
    if data.get("starts_on") and data.get("deadline") and data["starts_on"] > data["deadline"]:
        found["starts_on"] = _l("The start cannot be after the deadline.")
    return found


def save(goal: PlanTarget | None, data: dict) -> PlanTarget:
    """Create a target owned by the user's node, or update one (checked by ``errors``)."""
    if goal is None:
        return records.create(PlanTarget(), data)
    return records.update(goal, data)


def filtered(args: dict):
    stmt = scoped(PlanTarget, deleted=args.get("show") == "deleted")
    q = (args.get("q") or "").strip()
    if q:
        stmt = stmt.where(records.matching(q, PlanTarget.wording, PlanTarget.notes))
    if args.get("indicator"):
        stmt = stmt.where(PlanTarget.indicator == args["indicator"])
    return stmt.order_by(PlanTarget.deadline, PlanTarget.sort_order, PlanTarget.id)


# ---------------------------------------------------------------- progress

def overlap(scope: str, reader: str) -> str | None:
    """The node whose subtree both the target's scope and the reader's scope cover
    (the deeper of the two), or None when they do not meet."""
    for outer, inner in ((scope, reader), (reader, scope)):
        if inner == outer or ("-" not in outer and inner.startswith(outer)):
            return inner
    return None


def count(indicator: str, node: str, start: date | None, end: date | None) -> int:
    """The live records of ``node``'s subtree that ``indicator`` counts."""
    if indicator == "new_stations":
        where = [Station.deleted_at.is_(None), subtree(Station.owner_node, node)]
        if start:
            where.append(Station.established_on >= start)
        if end:
            where.append(Station.established_on <= end)
        if start or end:
            where.append(Station.established_on.is_not(None))
        return db.session.scalar(select(func.count(Station.id)).where(*where))
    if indicator == "clusters_with_team":
        return db.session.scalar(
            select(func.count(distinct(ServiceTeam.cluster_id)))
            .join(Cluster, Cluster.id == ServiceTeam.cluster_id)
            .where(ServiceTeam.deleted_at.is_(None), Cluster.deleted_at.is_(None),
                   subtree(ServiceTeam.owner_node, node)))
    kinds = {"trial_stations": "trial_station", "industry_bases": "industry_base",
             "service_points": "service_point"}
    if indicator in kinds:
        return db.session.scalar(select(func.count(Site.id)).where(
            Site.deleted_at.is_(None), Site.kind == kinds[indicator],
            subtree(Site.owner_node, node)))
    if indicator == "commissioners":
        return db.session.scalar(select(func.count(Commissioner.id)).where(
            Commissioner.deleted_at.is_(None), Commissioner.status != "exited",
            subtree(Commissioner.owner_node, node)))
    raise ValueError(indicator)


def progress(goal: PlanTarget, reader: str, today: date | None = None) -> dict:
    """One target against its count over the records ``reader`` can see."""
    today = today or date.today()
    node = overlap(goal.scope, reader)
    dated = goal.indicator in DATED
    counted = count(goal.indicator, node, goal.starts_on if dated else None,
                    goal.deadline if dated else None) if node else 0
    share = round(100 * counted / goal.value, 1) if goal.value else None
    met = counted >= goal.value
    return {"id": goal.id, "indicator": goal.indicator,
            "indicator_label": str(INDICATORS.get(goal.indicator, goal.indicator)),
            "wording": goal.wording, "scope": goal.scope, "counted_over": node,
            "target": goal.value, "count": counted, "progress": share,
            "starts_on": goal.starts_on, "deadline": goal.deadline,
            "days_left": (goal.deadline - today).days, "met": met,
            "overdue": not met and today > goal.deadline}


def report(reader: str, today: date | None = None) -> list[dict]:
    """Every live target the reader's node sees, in deadline order, with its progress
    (remembered until the data changes, app/core/cache.py; each caller gets its own rows)."""
    today = today or date.today()

    def rows():
        return [progress(goal, reader, today) for goal in db.session.scalars(filtered({}))]
    key = ("goals-report", reader, today, *reading_scope(), str(get_locale()))
    return [dict(row) for row in cache.remembered(key, rows)]
