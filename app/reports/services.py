"""The standard reports (services, trainings, agreements, workforce): which records
count, how they are grouped, and the figures, computed with aggregate SQL (GROUP BY,
COUNT DISTINCT) so that they read the same on SQLite and PostgreSQL.

Every report counts live records only (not deleted) of the scope's subtree whose date
falls in the period (edges inclusive); a commissioner's report counts only their own
records. A breakdown maps each record to one or more keys (a select of ``rid, k1, k2``):
a visit of two service types counts once under each type, and once in the totals, which
are computed over the whole set, never summed from the rows.

An answered report is remembered until the data changes (app/core/cache.py: keyed by
the database's generation, which every write moves): the figures of a year over a
county's tens of thousands of records take a few hundred milliseconds to count, and a
report is read far more often than the records under it change (docs/benchmarks.md).
"""
from collections import defaultdict
from dataclasses import dataclass, field

from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import String, and_, case, distinct, extract, func, literal_column, or_, select, union_all

from app.agreements import vocab as agreement_vocab
from app.core import cache, choices
from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l
from app.core.node import subtree, visible
from app.core.security import reading_scope
from app.models import (
    Agreement,
    AgreementParty,
    Cluster,
    Commissioner,
    Payout,
    ServiceTarget,
    ServiceTeam,
    Training,
    Visit,
)
from app.models.training import training_trainers
from app.models.visit import visit_commissioners, visit_targets
from app.reports import params
from app.reports.params import ReportError
from app.trainings import figures as training_figures
from app.trainings import vocab as training_vocab
from app.visits import vocab as visit_vocab

REPORTS = {
    "services": _l("Services"),
    "trainings": _l("Trainings"),
    "agreements": _l("Benefit-sharing agreements"),
    "workforce": _l("Workforce"),
}

BREAKDOWNS = {
    "services": {"cluster_stage": _l("Industry cluster × production stage"),
                 "service_type": _l("Service type"), "mode": _l("How"), "node": _l("Node")},
    "trainings": {"category": _l("Category"), "mode": _l("Mode"),
                  "cluster": _l("Industry cluster"), "node": _l("Node")},
    "agreements": {"form_status": _l("Form and status"),
                   "payout_year_kind": _l("Payouts by year and kind"), "node": _l("Node")},
    "workforce": {"kind": _l("Kind"), "level": _l("Level"),
                  "sending_org_type": _l("Sending organisation type"), "flags": _l("Flags"),
                  "team_cluster": _l("Service teams per cluster"), "node": _l("Node")},
}

NONE = ""  # the key of records that do not say (no cluster, no stage)
NA = object()  # a figure a row cannot have (women per category from head counts): shown "—"


@dataclass
class Column:
    key: str
    label: str
    kind: str = "int"  # int, float, money (fen), percent


@dataclass
class Report:
    """One answered report: what was asked and the table that answers it."""
    name: str
    title: str
    breakdown: str
    breakdown_label: str
    period: params.Period
    scope: params.Scope
    key_labels: list  # the headings of the key columns
    columns: list  # [Column]
    rows: list = field(default_factory=list)  # {"key": [..], "labels": [..], "drill": code, metrics}
    totals: dict = field(default_factory=dict)

    def as_json(self) -> dict:
        metrics = [c.key for c in self.columns]
        return {"report": self.name, "breakdown": self.breakdown,
                "period": self.period.as_dict(), "scope": self.scope.as_dict(),
                "columns": {c.key: c.label for c in self.columns},
                "rows": [{"key": r["key"], "label": " / ".join(r["labels"]),
                          **{m: r.get(m) for m in metrics}} for r in self.rows],
                "totals": {m: self.totals.get(m) for m in metrics}}

    @property
    def bar_column(self) -> Column:
        return self.columns[0]

    def bar_max(self):
        return max([r.get(self.bar_column.key) or 0 for r in self.rows] or [0])


def build(name: str, args, user=None) -> Report:
    """The report ``name`` for the request's arguments (``ReportError`` if they are bad)."""
    user = user or current_user
    if name not in REPORTS:
        raise ReportError(_("There is no report called %(name)s.", name=name[:40]))
    breakdown = (args.get("by") or "").strip() or next(iter(BREAKDOWNS[name]))
    if breakdown not in BREAKDOWNS[name]:
        raise ReportError(_("This report cannot be broken down by %(by)s.", by=breakdown[:40]))
    period, scope = params.period(args), params.scope(args, user)
    # everything the answer depends on besides the data: what was asked, who reads
    # (their node; a commissioner, their own id) and the language of its labels
    key = ("report", name, breakdown, period.start, period.end, period.label, scope.code,
           *reading_scope(user), str(get_locale()))
    return cache.remembered(key, lambda: _answer(Ask(name, period, scope, user, breakdown)))


def _answer(ask: "Ask") -> Report:
    name, breakdown, period, scope = ask.report, ask.breakdown, ask.period, ask.scope
    key_labels, columns, rows, totals = BUILDERS[name](ask)
    for row in rows:
        row["key"] = list(row["key"][:len(key_labels)])
    report = Report(name, str(REPORTS[name]), breakdown, str(BREAKDOWNS[name][breakdown]),
                    period, scope, key_labels, columns, rows, totals)
    if breakdown == "node":
        _name_nodes(report)
    return report


@dataclass
class Ask:
    report: str
    period: params.Period
    scope: params.Scope
    user: object
    breakdown: str

    @property
    def own(self) -> str | None:
        """The commissioner whose figures alone a commissioner sees (None: not one)."""
        if self.user.role == "commissioner":
            return self.user.commissioner_id or ""
        return None

    def node_key(self, column):
        """The node one level below the scope that a record's owner belongs to."""
        length = params.child_length(self.scope.code)
        if length is None:
            return _const(self.scope.code)
        # literal positions: PostgreSQL matches a GROUP BY to the select list by its text,
        # and two bound parameters are two different expressions to it
        return column if length == 0 else \
            func.substr(column, literal_column("1"), literal_column(str(int(length))))


def _const(text: str):
    """A constant key in a select (our own codes only, never user input)."""
    assert "'" not in text
    return literal_column(f"'{text}'", String)


def _merge(*results) -> dict:
    """{(k1, k2): {metric: value}} from several grouped results of (k1, k2, {metrics})."""
    merged = defaultdict(dict)
    for result in results:
        for (k1, k2), metrics in result.items():
            merged[(_text(k1), _text(k2))].update(metrics)
    return merged


def _text(value) -> str:
    if value is None:
        return NONE
    if isinstance(value, float) or type(value).__name__ == "Decimal":
        return str(int(value))
    return str(value)


def _grouped(stmt, names) -> dict:
    """Run a select of (k1, k2, *metrics) into {(k1, k2): {name: value}}."""
    return {(row[0], row[1]): dict(zip(names, row[2:], strict=True))
            for row in db.session.execute(stmt)}


def _number(value, kind="int"):
    """A sum as a plain number (PostgreSQL sums arrive as Decimal; None is 0)."""
    if value is None:
        return 0
    if kind == "float":
        return round(float(value), 2)
    return int(value)


def _rows(merged: dict, columns, order, labels) -> list:
    """The table's rows in ``order`` (a sort key of (k1, k2)), every metric filled."""
    rows = []
    for key in sorted(merged, key=order):
        metrics = merged[key]
        row = {"key": list(key), "labels": labels(key)}
        for column in columns:
            value = metrics.get(column.key)
            row[column.key] = None if value is NA else \
                value if column.kind == "percent" else _number(value, column.kind)
        rows.append(row)
    return rows


def _vocab_order(vocabulary):
    codes = list(vocabulary)
    return lambda code: (codes.index(code) if code in codes else len(codes), code)


def _share(part, whole):
    return round(100 * part / whole, 1) if whole else None


# ---------------------------------------------------------------- services (visits)

SERVICE_COLUMNS = (("visits", _l("Visits"), "int"), ("service_days", _l("Service days"), "int"),
                   ("hours", _l("Service hours"), "float"),
                   ("commissioners", _l("Active commissioners"), "int"),
                   ("villages", _l("Villages reached"), "int"),
                   ("targets", _l("Service targets reached"), "int"),
                   ("priority_targets", _l("of them poverty-alleviated or monitored"), "int"),
                   ("priority_share", _l("Share poverty-alleviated or monitored (%)"), "percent"))


def _columns(spec) -> list:
    return [Column(key, str(label), kind) for key, label, kind in spec]


def _visit_base(ask: Ask) -> list:
    where = [Visit.deleted_at.is_(None), subtree(Visit.owner_node, ask.scope.code),
             Visit.visited_on.between(ask.period.start, ask.period.end)]
    if ask.own is not None:
        where.append(Visit.id.in_(select(visit_commissioners.c.visit_id).where(
            visit_commissioners.c.commissioner_id == ask.own)))
    return where


def _visit_keys(ask: Ask, by: str | None):
    """rid, k1, k2 of every counted visit under the breakdown ``by`` (None: the totals),
    with the columns the figures read (one pass over the visits, no second lookup)."""
    where = _visit_base(ask)
    carried = (Visit.visited_on.label("day"), Visit.hours.label("hours"),
               Visit.village_id.label("village"))
    if by == "service_type":
        padded = _const(" ") + Visit.service_types + _const(" ")
        return union_all(*(select(Visit.id.label("rid"), _const(code).label("k1"),
                                  _const(NONE).label("k2"), *carried)
                           .where(*where, padded.like(f"% {code} %"))
                           for code in visit_vocab.SERVICE_TYPES)).subquery()
    k1, k2 = {None: (_const(NONE), _const(NONE)),
              "cluster_stage": (func.coalesce(Visit.cluster_id, NONE), Visit.stage),
              "mode": (Visit.mode, _const(NONE)),
              "node": (ask.node_key(Visit.owner_node), _const(NONE))}[by]
    return select(Visit.id.label("rid"), k1.label("k1"), k2.label("k2"), *carried) \
        .where(*where).subquery()


def _visit_figures(ask: Ask, by: str | None) -> dict:
    """The services figures of each breakdown key. A distinct count is counted as groups
    of groups (each village's visits, each commissioner's days, each target's links),
    never COUNT(DISTINCT): PostgreSQL sorts every row for that, and hashes groups (a
    league's year 2-3x faster)."""
    keys = _visit_keys(ask, by)
    group = (keys.c.k1, keys.c.k2)
    # a visit is once in its group (a visit of two service types: once under each)
    village = select(*group, keys.c.village, func.count().label("n"),
                     func.sum(keys.c.hours).label("hours")) \
        .group_by(*group, keys.c.village).subquery()
    visits = select(village.c.k1, village.c.k2, func.sum(village.c.n), func.sum(village.c.hours),
                    func.count(village.c.village)).group_by(village.c.k1, village.c.k2)
    vc = visit_commissioners.c
    # live commissioners only, said as "not one of the deleted" (a handful): SQLite
    # would test "one of the live" by looking each live one up per visit (4x slower)
    gone = select(Commissioner.id).where(Commissioner.deleted_at.is_not(None))
    people = select(*group, vc.commissioner_id, keys.c.day) \
        .join_from(keys, visit_commissioners, vc.visit_id == keys.c.rid) \
        .where(vc.commissioner_id.not_in(gone))
    if ask.own is not None:
        people = people.where(vc.commissioner_id == ask.own)
    days = people.distinct().subquery()  # service days: distinct commissioner-dates
    person = select(days.c.k1, days.c.k2, days.c.commissioner_id, func.count().label("days")) \
        .group_by(days.c.k1, days.c.k2, days.c.commissioner_id).subquery()
    served = select(person.c.k1, person.c.k2, func.sum(person.c.days), func.count()) \
        .group_by(person.c.k1, person.c.k2)
    vt = visit_targets.c
    priority = or_(ServiceTarget.poverty_alleviated, ServiceTarget.monitored)
    target = select(*group, vt.target_id, func.max(case((priority, 1), else_=0)).label("priority")) \
        .join_from(keys, visit_targets, vt.visit_id == keys.c.rid) \
        .join(ServiceTarget, and_(ServiceTarget.id == vt.target_id,
                                  ServiceTarget.deleted_at.is_(None))) \
        .group_by(*group, vt.target_id).subquery()
    reached = select(target.c.k1, target.c.k2, func.count(), func.sum(target.c.priority)) \
        .group_by(target.c.k1, target.c.k2)
    merged = _merge(_grouped(visits, ("visits", "hours", "villages")),
                    _grouped(served, ("service_days", "commissioners")),
                    _grouped(reached, ("targets", "priority_targets")))
    for metrics in merged.values():
        for key in ("visits", "villages", "service_days", "commissioners", "targets",
                    "priority_targets"):  # sums arrive as Decimal on PostgreSQL
            if metrics.get(key) is not None:
                metrics[key] = int(metrics[key])
        metrics["priority_share"] = _share(metrics.get("priority_targets") or 0,
                                           metrics.get("targets") or 0)
    return merged


def _cluster_names() -> dict:
    return dict(db.session.execute(select(Cluster.id, Cluster.name)).all())


def _cluster_order() -> dict:
    return {cid: (order, name) for cid, order, name in
            db.session.execute(select(Cluster.id, Cluster.sort_order, Cluster.name))}


def services(ask: Ask):
    columns = _columns(SERVICE_COLUMNS)
    merged = _visit_figures(ask, ask.breakdown)
    totals = _visit_figures(ask, None).get((NONE, NONE), {})
    total_row = _rows({(NONE, NONE): totals}, columns, lambda k: k, lambda k: [])[0]
    not_given = _("Not given")
    if ask.breakdown == "cluster_stage":
        names, order = _cluster_names(), _cluster_order()
        stage = _vocab_order(visit_vocab.STAGES)
        return ([_("Industry cluster"), _("Production stage")], columns, _rows(
            merged, columns, lambda k: (k[0] == NONE, order.get(k[0], (0, "")), stage(k[1])),
            lambda k: [names.get(k[0], not_given), str(visit_vocab.STAGES.get(k[1], not_given))]),
            total_row)
    vocabulary = {"service_type": visit_vocab.SERVICE_TYPES, "mode": visit_vocab.MODES}
    return _single(ask, merged, columns, total_row, vocabulary.get(ask.breakdown))


def _single(ask: Ask, merged: dict, columns, total_row, vocabulary=None, names=None):
    """The table of a one-key breakdown: a vocabulary's, a node's or named ids."""
    label = str(BREAKDOWNS[ask.report][ask.breakdown])
    if ask.breakdown == "node":
        return [label], columns, _rows(merged, columns, lambda k: k, lambda k: [k[0]]), total_row
    if vocabulary is not None:
        order = _vocab_order(vocabulary)
        return [label], columns, _rows(merged, columns, lambda k: order(k[0]), lambda k: [
            str(vocabulary.get(k[0], _("Not given") if k[0] == NONE else k[0]))]), total_row
    names = names or {}
    return [label], columns, _rows(merged, columns, lambda k: (k[0] == NONE, names.get(k[0], k[0])),
                                   lambda k: [names.get(k[0], _("Not given"))]), total_row


def _name_nodes(report: Report) -> None:
    """Node rows: the node's name, and the code to drill down to (not below a station)."""
    names = params.node_names([r["key"][0] for r in report.rows])
    for row in report.rows:
        code = row["key"][0]
        row["labels"] = [names.get(code, code)]
        if code != report.scope.code and params.valid_scope_code(code):
            row["drill"] = code


# ---------------------------------------------------------------- trainings

TRAINING_COLUMNS = (("sessions", _l("Training sessions held"), "int"), ("people", _l("People trained"), "int"),
                    ("women", _l("Women"), "int"), ("minorities", _l("Ethnic minorities"), "int"),
                    ("poverty", _l("Lifted out of poverty"), "int"))


def _training_where(ask: Ask) -> list:
    """The counted sessions: held, live, in the period and the scope (a commissioner's:
    those they trained at)."""
    where = [Training.deleted_at.is_(None), Training.status == "held",
             subtree(Training.owner_node, ask.scope.code),
             Training.held_on.between(ask.period.start, ask.period.end)]
    if ask.own is not None:
        where.append(Training.id.in_(select(training_trainers.c.training_id).where(
            training_trainers.c.commissioner_id == ask.own)))
    return where


def _training_keys(ask: Ask):
    """(rid, k1, k2) of every counted session under the breakdown."""
    k1 = {"category": _const(NONE), "mode": Training.mode,
          "cluster": func.coalesce(Training.cluster_id, NONE),
          "node": ask.node_key(Training.owner_node)}[ask.breakdown]
    return select(Training.id, k1, _const(NONE)).where(*_training_where(ask))


def trainings(ask: Ask):
    """Sessions and people; who came is counted from each session's roster when it has
    one, else from its head counts (app/trainings/figures.py decides, per session)."""
    columns = _columns(TRAINING_COLUMNS)
    keyed = [(rid, _text(k1), _text(k2)) for rid, k1, k2 in db.session.execute(_training_keys(ask))]
    ids = list(dict.fromkeys(rid for rid, _k1, _k2 in keyed))
    sessions = db.session.scalars(select(Training).where(*_training_where(ask))).all() \
        if ids else []
    found = training_figures.for_sessions(sessions) if sessions else {}
    merged = defaultdict(lambda: defaultdict(int))
    totals = defaultdict(int)
    for rid in ids:
        _add(totals, found[rid])
    if ask.breakdown == "category":
        for rid in ids:
            for category, people in found[rid].by_category.items():
                merged[(category, NONE)]["sessions"] += 1
                merged[(category, NONE)]["people"] += people
        for metrics in merged.values():
            metrics.update(women=NA, minorities=NA, poverty=NA)
    else:
        for rid, k1, k2 in keyed:
            _add(merged[(k1, k2)], found[rid])
    total_row = _rows({(NONE, NONE): totals}, columns, lambda k: k, lambda k: [])[0]
    vocabulary = {"category": training_vocab.CATEGORIES, "mode": training_vocab.MODES}
    names = _cluster_names() if ask.breakdown == "cluster" else None
    return _single(ask, merged, columns, total_row, vocabulary.get(ask.breakdown), names)


def _add(metrics, f) -> None:
    metrics["sessions"] += 1
    metrics["people"] += f.total
    metrics["women"] += f.women or 0
    metrics["minorities"] += f.minorities or 0
    metrics["poverty"] += f.poverty or 0


# ---------------------------------------------------------------- agreements

AGREEMENT_COLUMNS = (("agreements", _l("Agreements signed"), "int"),
                     ("valuation_fen", _l("Valuation (yuan)"), "money"),
                     ("payouts", _l("Payouts"), "int"),
                     ("payout_fen", _l("Paid out (yuan)"), "money"))


def agreements(ask: Ask):
    """Agreements signed in the period (by their signing date; unsigned drafts have none)
    and payouts paid in the period, of live agreements."""
    columns = _columns(AGREEMENT_COLUMNS)
    signed = [Agreement.deleted_at.is_(None), subtree(Agreement.owner_node, ask.scope.code),
              Agreement.signed_on.between(ask.period.start, ask.period.end)]
    if ask.own is not None:
        signed.append(Agreement.id.in_(select(AgreementParty.agreement_id).where(
            AgreementParty.commissioner_id == ask.own, AgreementParty.deleted_at.is_(None))))
    paid = [Payout.deleted_at.is_(None), Agreement.deleted_at.is_(None),
            subtree(Agreement.owner_node, ask.scope.code),
            Payout.paid_on.between(ask.period.start, ask.period.end)]
    if ask.own is not None:
        paid.append(Payout.payee_id == ask.own)
    by = ask.breakdown

    def keys(total):
        if total:
            return _const(NONE), _const(NONE)
        return {"form_status": (Agreement.form, Agreement.status),
                "node": (ask.node_key(Agreement.owner_node), _const(NONE)),
                "payout_year_kind": (extract("year", Payout.paid_on), Payout.kind)}[by]

    def figures(total):
        results = []
        # PostgreSQL refuses GROUP BY a constant (the totals, a station's own node key)
        grouping = [key for key in keys(total) if not getattr(key, "is_literal", False)]
        if total or by != "payout_year_kind":
            group = keys(total)
            results.append(_grouped(select(*group, func.count(distinct(Agreement.id)),
                                           func.sum(Agreement.valuation_fen))
                                    .where(*signed).group_by(*grouping), ("agreements", "valuation_fen")))
        group = keys(total)
        results.append(_grouped(select(*group, func.count(distinct(Payout.id)),
                                       func.sum(Payout.amount_fen))
                                .join_from(Payout, Agreement, Agreement.id == Payout.agreement_id)
                                .where(*paid).group_by(*grouping), ("payouts", "payout_fen")))
        return _merge(*results)

    merged = figures(False)
    if by == "payout_year_kind":
        for metrics in merged.values():
            metrics.update(agreements=NA, valuation_fen=NA)
    total_row = _rows({(NONE, NONE): figures(True).get((NONE, NONE), {})}, columns,
                      lambda k: k, lambda k: [])[0]
    if by == "node":
        return [_("Node")], columns, _rows(merged, columns, lambda k: k, lambda k: [k[0]]), total_row
    if by == "form_status":
        form, status = _vocab_order(agreement_vocab.FORMS), _vocab_order(agreement_vocab.STATUSES)
        return ([_("Form"), _("Status")], columns,
                _rows(merged, columns, lambda k: (form(k[0]), status(k[1])), lambda k: [
                    str(agreement_vocab.FORMS.get(k[0], k[0])),
                    str(agreement_vocab.STATUSES.get(k[1], k[1]))]), total_row)
    kind = _vocab_order(agreement_vocab.PAYOUT_KINDS)
    return ([_("Year"), _("Kind of payout")], columns,
            _rows(merged, columns, lambda k: (k[0], kind(k[1])), lambda k: [
                k[0], str(agreement_vocab.PAYOUT_KINDS.get(k[1], k[1]))]), total_row)


# ---------------------------------------------------------------- workforce

WORKFORCE_COLUMNS = (("commissioners", _l("Commissioners on the roster"), "int"),
                     ("recognised", _l("Recognised in the period"), "int"),
                     ("dispatched", _l("Dispatched in the period"), "int"),
                     ("exited", _l("Exited in the period"), "int"))
TEAM_COLUMNS = (("teams", _l("Service teams"), "int"),)
FLAGS = {"three_areas_talent": _l("\"Three areas\" talent"),
         "hotline_expert": _l("12396 seat expert")}


def _commissioner_keys(ask: Ask, by: str | None):
    where = [Commissioner.deleted_at.is_(None), subtree(Commissioner.owner_node, ask.scope.code)]
    if ask.own is not None:
        where.append(Commissioner.id == ask.own)
    if by == "flags":
        return union_all(*(select(Commissioner.id.label("rid"), _const(flag).label("k1"),
                                  _const(NONE).label("k2"))
                           .where(*where, getattr(Commissioner, flag).is_(True))
                           for flag in FLAGS)).subquery()
    k1 = {None: _const(NONE), "kind": Commissioner.kind, "level": Commissioner.level,
          "sending_org_type": Commissioner.sending_org_type,
          "node": ask.node_key(Commissioner.owner_node)}[by]
    return select(Commissioner.id.label("rid"), k1.label("k1"), _const(NONE).label("k2")) \
        .where(*where).subquery()


def _commissioner_figures(ask: Ask, by: str | None) -> dict:
    """On the roster: recognised by the period's end (or undated) and not exited
    before its start; recognised, dispatched, exited: that date in the period."""
    start, end = ask.period.start, ask.period.end
    c = Commissioner
    on_roster = and_(or_(c.recognised_on.is_(None), c.recognised_on <= end),
                     or_(c.exited_on >= start,
                         and_(c.exited_on.is_(None), c.status != "exited")))

    def counted(condition):
        return func.sum(case((condition, 1), else_=0))

    keys = _commissioner_keys(ask, by)
    group = (keys.c.k1, keys.c.k2)
    stmt = select(*group, counted(on_roster), counted(c.recognised_on.between(start, end)),
                  counted(c.dispatched_on.between(start, end)),
                  counted(c.exited_on.between(start, end))) \
        .join_from(keys, c, c.id == keys.c.rid).group_by(*group)
    return _merge(_grouped(stmt, ("commissioners", "recognised", "dispatched", "exited")))


def _teams(ask: Ask):
    """Live service teams of the scope per industry cluster, every visible cluster listed;
    the totals say how many clusters have a team (x of the clusters)."""
    columns = _columns(TEAM_COLUMNS) + [Column("clusters_with_team", _("Clusters with a team")),
                                        Column("clusters", _("Industry clusters"))]
    found = dict(db.session.execute(
        select(ServiceTeam.cluster_id, func.count(distinct(ServiceTeam.id)))
        .where(ServiceTeam.deleted_at.is_(None), subtree(ServiceTeam.owner_node, ask.scope.code))
        .group_by(ServiceTeam.cluster_id)).all())
    clusters = db.session.execute(select(Cluster.id, Cluster.name).where(
        Cluster.deleted_at.is_(None), visible(Cluster.owner_node, ask.user.node_code))
        .order_by(Cluster.sort_order, Cluster.name)).all()
    rows = [{"key": [cid], "labels": [name], "teams": found.get(cid, 0),
             "clusters_with_team": int(bool(found.get(cid))), "clusters": 1}
            for cid, name in clusters]
    if found.get(None):
        rows.append({"key": [NONE], "labels": [_("Not given")], "teams": found[None],
                     "clusters_with_team": 0, "clusters": 0})
    totals = {"teams": sum(found.values()),
              "clusters_with_team": sum(r["clusters_with_team"] for r in rows),
              "clusters": len(clusters)}
    return [_("Industry cluster")], columns, rows, totals


def workforce(ask: Ask):
    if ask.breakdown == "team_cluster":
        return _teams(ask)
    columns = _columns(WORKFORCE_COLUMNS)
    merged = _commissioner_figures(ask, ask.breakdown)
    total_row = _rows({(NONE, NONE): _commissioner_figures(ask, None).get((NONE, NONE), {})},
                      columns, lambda k: k, lambda k: [])[0]
    vocabulary = {"kind": choices.COMMISSIONER_KINDS, "level": choices.LEVELS,
                  "sending_org_type": choices.SENDING_ORG_TYPES, "flags": FLAGS}
    return _single(ask, merged, columns, total_row, vocabulary.get(ask.breakdown))


BUILDERS = {"services": services, "trainings": trainings, "agreements": agreements,
            "workforce": workforce}
