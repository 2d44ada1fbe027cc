from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from app.commissioners import bp, services
from app.commissioners.forms import CommissionerForm
from app.core import choices, records
from app.core.extensions import db
from app.core.security import can, get_or_404, require, scoped
from app.models import Cluster, Commissioner, Place, Station
from app.web import record_pages
from app.web.forms import field_labels
from app.web.htmx import invalid, render

VOCAB = {"kind": choices.COMMISSIONER_KINDS, "level": choices.LEVELS,
         "sending_org_type": choices.SENDING_ORG_TYPES, "sex": choices.SEXES,
         "local_talent_kind": choices.LOCAL_TALENT_KINDS, "status": choices.COMMISSIONER_STATUSES}
FILTERS = ("q", "kind", "level", "status", "sending_org_type", "station_id", "cluster", "flag", "show")


def _options():
    return {
        "clusters": db.session.scalars(scoped(Cluster).order_by(Cluster.sort_order)).all(),
        "stations": db.session.scalars(scoped(Station).order_by(Station.name)).all(),
        "villages": db.session.scalars(
            scoped(Place).where(Place.level == "village").order_by(Place.name)).all(),
    }


def _form(commissioner=None) -> CommissionerForm:
    form = CommissionerForm(obj=commissioner)
    options = _options()
    form.cluster_ids.choices = [(c.id, c.name) for c in options["clusters"]]
    form.station_id.choices = [("", "—")] + [(s.id, s.name) for s in options["stations"]]
    form.village_ids.choices = sorted(((v.id, v.full_name) for v in options["villages"]),
                                      key=lambda choice: choice[1])
    if commissioner is not None and not form.is_submitted():
        form.cluster_ids.data = [c.id for c in commissioner.clusters]
        form.village_ids.data = [v.id for v in commissioner.villages]
        if not can("see_id_number"):
            form.id_number.data = ""
    return form


def _checked(form: CommissionerForm, current_status=None) -> bool:
    """Validate the form and the life-cycle rules; errors land on the fields."""
    if not form.validate_on_submit():
        return False
    errors = services.lifecycle_errors(current_status, form.data_for_save())
    for name, message in errors.items():
        form[name].errors.append(message)
    return not errors


@bp.get("/")
def index():
    args = {k: v for k, v in request.args.items() if k in FILTERS and v}
    if args.get("show") == "deleted" and not can("restore_records"):
        args.pop("show")
    page = records.paginate(services.filtered(args), request.args.get("page", 1, type=int))
    return render("commissioners/index.html", "commissioners/_results.html",
                  page=page, args=args, **_options())


@bp.route("/new", methods=["GET", "POST"])
@require("edit_records")
def new():
    form = _form()
    if _checked(form):
        commissioner = services.save(None, form.data_for_save())
        flash(_("Commissioner %(name)s has been recorded.", name=commissioner.name), "success")
        return redirect(url_for("commissioners.detail", record_id=commissioner.id))
    if form.is_submitted():
        return invalid("commissioners/form.html", form=form, commissioner=None)
    return render("commissioners/form.html", form=form, commissioner=None)


@bp.get("/<record_id>")
def detail(record_id):
    commissioner = get_or_404(Commissioner, record_id, include_deleted=can("restore_records"))
    return render("commissioners/detail.html", commissioner=commissioner,
                  history=records.history(commissioner), vocab=VOCAB,
                  labels=field_labels(CommissionerForm))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    commissioner = get_or_404(Commissioner, record_id)
    form = _form(commissioner)
    if _checked(form, commissioner.status):
        data = form.data_for_save()
        if not can("see_id_number") and not data["id_number"]:
            data.pop("id_number")  # the field was shown empty: keep what is there
        services.save(commissioner, data)
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("commissioners.detail", record_id=commissioner.id))
    if form.is_submitted():
        return invalid("commissioners/form.html", form=form, commissioner=commissioner)
    return render("commissioners/form.html", form=form, commissioner=commissioner)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete(record_id):
    commissioner = get_or_404(Commissioner, record_id)
    return record_pages.confirm_delete(commissioner, "commissioners")


@bp.post("/<record_id>/restore")
@require("restore_records")
def restore(record_id):
    commissioner = get_or_404(Commissioner, record_id, include_deleted=True)
    return record_pages.restore(commissioner, "commissioners")


@bp.get("/search")
def search():
    """Search-as-you-type for pickers: a short list of matching commissioners."""
    found = services.search((request.args.get("q") or "").strip())
    return render("commissioners/_options.html", commissioners=found)
