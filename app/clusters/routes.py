"""Industry clusters: everyone reads the list; league and region admins
(``edit_clusters``) add, edit, delete and restore."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.clusters import bp, services
from app.clusters.forms import ClusterForm
from app.core import records
from app.core.security import can, get_or_404, require
from app.models import Cluster
from app.web.forms import DeleteForm, field_labels
from app.web.htmx import invalid, render

FILTERS = ("q", "major", "show")


def _checked(form: ClusterForm, cluster=None) -> bool:
    if not form.validate_on_submit():
        return False
    errors = services.cluster_errors(cluster, form.data_for_save())
    for name, message in errors.items():
        form[name].errors.append(message)
    return not errors


@bp.get("/")
def index():
    args = {k: v for k, v in request.args.items() if k in FILTERS and v}
    if args.get("show") == "deleted" and not can("edit_clusters"):
        args.pop("show")
    page = records.paginate(services.filtered(args), request.args.get("page", 1, type=int))
    return render("clusters/index.html", "clusters/_results.html", page=page, args=args)


@bp.route("/new", methods=["GET", "POST"])
@require("edit_clusters")
def new():
    form = ClusterForm()
    if _checked(form):
        cluster = services.save(None, form.data_for_save(), owner_node=current_user.node_code)
        flash(_("%(name)s has been added.", name=cluster.name), "success")
        return redirect(url_for("clusters.detail", record_id=cluster.id))
    respond = invalid if form.is_submitted() else render
    return respond("clusters/form.html", form=form, cluster=None)


@bp.get("/<record_id>")
def detail(record_id):
    cluster = get_or_404(Cluster, record_id, include_deleted=can("edit_clusters"))
    return render("clusters/detail.html", cluster=cluster, history=records.history(cluster),
                  labels=field_labels(ClusterForm))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_clusters")
def edit(record_id):
    cluster = get_or_404(Cluster, record_id)
    form = ClusterForm(obj=cluster)
    if _checked(form, cluster):
        services.save(cluster, form.data_for_save(), owner_node=cluster.owner_node)
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("clusters.detail", record_id=cluster.id))
    respond = invalid if form.is_submitted() else render
    return respond("clusters/form.html", form=form, cluster=cluster)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("edit_clusters")
def delete(record_id):
    cluster = get_or_404(Cluster, record_id)
    back = url_for("clusters.detail", record_id=record_id)
    form = DeleteForm()
    reasons = services.delete_blockers(cluster)
    if not reasons and form.validate_on_submit():
        reasons = services.delete(cluster)
        if not reasons:
            flash(_("%(name)s has been deleted. An admin can restore it.", name=cluster.name),
                  "success")
            return redirect(url_for("clusters.index"))
    if reasons:
        return render("places/delete_refused.html", record=cluster, reasons=reasons, back=back,
                      status=409)
    return render("records/confirm_delete.html", form=form, record=cluster, back=back)


@bp.post("/<record_id>/restore")
@require("edit_clusters")
def restore(record_id):
    cluster = get_or_404(Cluster, record_id, include_deleted=True)
    if DeleteForm().validate_on_submit():
        problem = services.restore(cluster)
        if problem:
            flash(problem, "error")
        else:
            flash(_("%(name)s has been restored.", name=cluster.name), "success")
    return redirect(url_for("clusters.detail", record_id=record_id))
