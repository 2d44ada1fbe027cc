from datetime import date

from flask import current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.agreements.listing import attention as agreement_attention
from app.assessments.vocab import GRADES, STATUSES
from app.core import cache, database
from app.core.extensions import db
from app.core.node import this_node
from app.core.security import local_url, reading_scope, scoped
from app.main import bp, overview
from app.models import Commissioner, ServiceTarget, Station, Training, Visit
from app.web.htmx import render


@bp.get("/")
def home():
    """One home page per role: a commissioner's (phone first), a station's, a league's."""
    def compute():
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(
                    scoped(model).with_only_columns(model.id).subquery()))
                for model in (Commissioner, ServiceTarget, Station)}
    today = date.today()
    counts = cache.remembered(("home-counts", *reading_scope()), compute)
    node = this_node()
    if current_user.role == "commissioner":
        visits, (due, due_ids) = cache.remembered(
            ("home-commissioner", *reading_scope(), today),
            lambda: (overview.my_visit_counts(current_user, today),
                     overview.follow_ups_due_ids(current_user, today)))
        return render("main/home_commissioner.html", counts=counts, visits=visits,
                      follow_ups=(due, overview.by_ids(Visit, due_ids, selectinload(Visit.targets))),
                      today=today,
                      sheet=overview.my_sheet(current_user), sheet_states=STATUSES,
                      grades=GRADES)
    figures = cache.known(_figures_key(today))  # None: the page fetches them after
    if node is not None and node.role != "station":
        return render("main/home_league.html", counts=counts, figures=figures, today=today,
                      nodes=overview.downstream_nodes(),
                      awaiting=overview.sheets_awaiting_review(current_user))
    (late, late_ids), (issues, issue_ids) = cache.remembered(
        ("home-lines", *reading_scope(), today),
        lambda: (overview.late_training_ids(current_user, today),
                 overview.issue_visit_ids(current_user)))
    return render("main/home.html", counts=counts, figures=figures, today=today,
                  agreement_attention=agreement_attention(),
                  late_trainings=(late, overview.by_ids(Training, late_ids)),
                  issues=(issues, overview.by_ids(Visit, issue_ids)),
                  exits=overview.proposed_exits(current_user))


def _figures_key(today: date) -> tuple:
    return ("home-figures", *reading_scope(), today)


@bp.get("/home/figures")
def home_figures():
    """This year's figures beside last year's (and, at a league, by node below): six
    reports' worth of work after each write, so the home page shows them when they are
    known and otherwise fetches them from here once it is shown (a page of their own
    without JavaScript)."""
    today = date.today()
    node = this_node()
    below = node is not None and node.role != "station" and current_user.role != "commissioner"
    figures = cache.remembered(_figures_key(today), lambda: {
        "figures": overview.year_figures(current_user, today),
        "by_node": overview.figures_by_node(current_user, today) if below else None})
    return render("main/figures.html", "main/_home_figures.html", today=today, **figures)


@bp.get("/healthz")
def healthz():
    """Public: role, code and database status, for monitoring and for the upstream."""
    node = None
    db_status = database.status(db)
    if db_status["ok"]:
        try:
            node = this_node()
        except Exception:  # noqa: BLE001 - tables missing before `flask db upgrade`
            db.session.rollback()
            db_status = {**db_status, "ok": False, "error": "not migrated"}
    body = {
        "status": "ok" if db_status["ok"] and node else "degraded",
        "role": node.role if node else None,
        "code": node.code if node else None,
        "name": node.name if node else None,
        "database": db_status,
    }
    return jsonify(body), 200 if db_status["ok"] else 503


@bp.post("/language")
def language():
    """Switch the interface language; kept in the session."""
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    return redirect(local_url(request.form.get("next"), url_for("main.home")))
