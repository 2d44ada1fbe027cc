"""Service team pages: list, detail (members, history), new, edit, delete, restore."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from app.core import records
from app.core.security import can, get_or_404, require
from app.models import ServiceTeam
from app.teams import bp, services
from app.teams.forms import TeamForm
from app.web import record_pages
from app.web.forms import DeleteForm, field_labels
from app.web.htmx import invalid, render

FILTERS = ("q", "cluster", "show")


def _form(team=None) -> TeamForm:
    form = TeamForm(obj=team)
    people = services.commissioner_options()
    clusters = services.cluster_options()
    if team is not None:  # keep who and what is set even if they left the options
        people += [m for m in team.members if m not in people]
        if team.cluster and team.cluster not in clusters:
            clusters = [team.cluster] + clusters
        if not form.is_submitted():
            form.member_ids.data = [m.id for m in team.members]
    form.member_ids.choices = [(c.id, c.name) for c in people]
    form.leader_id.choices = [("", "—")] + form.member_ids.choices
    form.cluster_id.choices = [("", "—")] + [(c.id, c.name) for c in clusters]
    return form


def _checked(form: TeamForm, team=None) -> bool:
    """Validate the form and the team rules; errors land on the fields."""
    if not form.validate_on_submit():
        return False
    found = services.errors(team, form.data_for_save())
    for name, message in found.items():
        form[name].errors.append(message)
    return not found


@bp.get("/")
def index():
    args = {k: v for k, v in request.args.items() if k in FILTERS and v}
    if args.get("show") == "deleted" and not can("restore_records"):
        args.pop("show")
    page = records.paginate(services.filtered(args), request.args.get("page", 1, type=int))
    return render("teams/index.html", "teams/_results.html", page=page, args=args,
                  clusters=services.cluster_options())


@bp.route("/new", methods=["GET", "POST"])
@require("edit_records")
def new():
    form = _form()
    if _checked(form):
        team = services.save(None, form.data_for_save())
        flash(_("Service team %(name)s has been recorded.", name=team.name), "success")
        return redirect(url_for("teams.detail", record_id=team.id))
    if form.is_submitted():
        return invalid("teams/form.html", form=form, team=None)
    return render("teams/form.html", form=form, team=None)


@bp.get("/<record_id>")
def detail(record_id):
    team = get_or_404(ServiceTeam, record_id, include_deleted=can("restore_records"))
    return render("teams/detail.html", team=team, history=records.history(team),
                  labels=field_labels(TeamForm))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    team = get_or_404(ServiceTeam, record_id)
    form = _form(team)
    if _checked(form, team):
        services.save(team, form.data_for_save())
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("teams.detail", record_id=team.id))
    if form.is_submitted():
        return invalid("teams/form.html", form=form, team=team)
    return render("teams/form.html", form=form, team=team)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete(record_id):
    team = get_or_404(ServiceTeam, record_id)
    return record_pages.confirm_delete(team, "teams")


@bp.post("/<record_id>/restore")
@require("restore_records")
def restore(record_id):
    team = get_or_404(ServiceTeam, record_id, include_deleted=True)
    if DeleteForm().validate_on_submit():
        if services.errors(team, {"name": team.name}):
            flash(_("Another service team already has this name: rename it before restoring "
                    "this one."), "error")
        else:
            records.restore(team)
            flash(_("%(name)s has been restored.", name=team.name), "success")
    return redirect(url_for("teams.detail", record_id=record_id))
