"""Service team pages: list, detail (members, history), new, edit, delete, restore
(app/web/pages.py)."""
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.core import records, spreadsheet
from app.core.extensions import db
from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.core.security import get_or_404
from app.models import Commissioner, ServiceTeam
from app.teams import bp, export, services
from app.teams.forms import TeamForm
from app.web import options
from app.web.forms import field_labels
from app.web.pages import RecordPages, page_number

FILTERS = ("q", "cluster", "show")


def _form(team=None) -> TeamForm:
    form = TeamForm(obj=team)
    people, clusters = list(options.commissioners()), list(options.clusters())
    if team is not None:  # keep who and what is set even if they left the options
        people += [(m.id, m.name) for m in team.members if (m.id, m.name) not in people]
        if team.cluster and (team.cluster.id, team.cluster.name) not in clusters:
            clusters = [(team.cluster.id, team.cluster.name)] + clusters
        if not form.is_submitted():
            form.member_ids.data = [m.id for m in team.members]
    form.member_ids.choices = people
    form.leader_id.choices = [("", "—")] + people
    form.cluster_id.choices = [("", "—")] + clusters
    return form


pages = RecordPages(
    "teams", ServiceTeam, "team", form=_form, save=services.save, errors=services.errors,
    restore=services.restore,
    get=lambda record_id, include_deleted: get_or_404(
        ServiceTeam, record_id, include_deleted=include_deleted,
        options=(joinedload(ServiceTeam.cluster), joinedload(ServiceTeam.leader))),
    created=lambda team: _("Service team %(name)s has been recorded.", name=team.name))


@bp.get("/")
def index():
    args = pages.filter_args(FILTERS)
    found = services.filtered(args).options(
        joinedload(ServiceTeam.cluster), joinedload(ServiceTeam.leader).load_only(Commissioner.name))
    page = records.paginate(found, page_number())
    return pages.list(page, args, clusters=options.clusters(),
                      member_counts=services.member_counts([team.id for team in page.items]))


@bp.get("/export.xlsx")
def export_list():
    """The filtered list (every page) as XLSX, with Chinese headers."""
    args = {k: v for k, v in pages.filter_args(FILTERS).items() if k != "show"}
    found = db.session.scalars(services.filtered(args)).all()
    with force_locale("zh_CN"):
        data = spreadsheet.xlsx("产业服务团", export.COLUMNS, export.rows(found))
    return spreadsheet.response(data, "产业服务团", current_user.node_code)


@bp.get("/<record_id>")
def detail(record_id):
    team = pages.shown(record_id)
    return pages.detail(team, labels=field_labels(TeamForm), members=services.members(team.id))


# The shared write pages (app/web/pages.py), each behind its permission.
bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/edit", "edit", pages.edit_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/delete", "delete", pages.delete_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/restore", "restore", pages.restore_view, methods=["POST"])
