"""Station pages: list, detail (clusters, sites, commissioners, history), new, edit,
delete (refused while sites or commissioners remain), restore."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from app.core import choices, records
from app.core.security import can, get_or_404, require
from app.models import Station
from app.stations import bp, services
from app.stations.forms import StationForm
from app.web.forms import DeleteForm, field_labels
from app.web.htmx import invalid, render

VOCAB = {"kind": choices.STATION_KINDS, "host_org_type": choices.HOST_ORG_TYPES}
FILTERS = ("q", "kind", "county", "cluster", "show")


def _form(station=None) -> StationForm:
    form = StationForm(obj=station)
    counties = services.county_options()
    if station is not None and station.county and station.county not in counties:
        counties = [station.county] + counties
    form.county_id.choices = [(c.id, c.name) for c in counties]
    if len(counties) != 1:
        form.county_id.choices.insert(0, ("", "—"))
    form.cluster_ids.choices = [(c.id, c.name) for c in services.cluster_options()]
    if station is not None and not form.is_submitted():
        form.cluster_ids.data = [c.id for c in station.clusters]
    return form


@bp.get("/")
def index():
    args = {k: v for k, v in request.args.items() if k in FILTERS and v}
    if args.get("show") == "deleted" and not can("restore_records"):
        args.pop("show")
    page = records.paginate(services.filtered(args), request.args.get("page", 1, type=int))
    return render("stations/index.html", "stations/_results.html", page=page, args=args,
                  counties=services.county_options(), clusters=services.cluster_options())


@bp.route("/new", methods=["GET", "POST"])
@require("edit_records")
def new():
    form = _form()
    if form.validate_on_submit():
        station = services.save_station(None, form.data_for_save())
        flash(_("Station %(name)s has been recorded.", name=station.name), "success")
        return redirect(url_for("stations.detail", record_id=station.id))
    if form.is_submitted():
        return invalid("stations/form.html", form=form, station=None)
    return render("stations/form.html", form=form, station=None)


@bp.get("/<record_id>")
def detail(record_id):
    station = get_or_404(Station, record_id, include_deleted=can("restore_records"))
    history = services.masked_history(records.history(station))
    return render("stations/detail.html", station=station, history=history, vocab=VOCAB,
                  labels=field_labels(StationForm), sites=services.live_sites(station),
                  deleted_sites=services.deleted_sites(station) if can("restore_records") else [],
                  commissioners=services.commissioners_of(station))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    station = get_or_404(Station, record_id)
    form = _form(station)
    if form.validate_on_submit():
        services.save_station(station, form.data_for_save())
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("stations.detail", record_id=station.id))
    if form.is_submitted():
        return invalid("stations/form.html", form=form, station=station)
    return render("stations/form.html", form=form, station=station)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete(record_id):
    station = get_or_404(Station, record_id)
    form = DeleteForm()
    back = url_for("stations.detail", record_id=record_id)
    blocker = services.delete_blocker(station)
    if blocker:  # shown on the confirm page, and as 409 if the delete was sent anyway
        return render("stations/cannot_delete.html", status=409 if form.is_submitted() else 200,
                      station=station, message=blocker, back=back)
    if form.validate_on_submit():
        records.soft_delete(station)
        flash(_("%(name)s has been deleted. An admin can restore it.", name=station.name), "success")
        return redirect(url_for("stations.index"))
    return render("records/confirm_delete.html", form=form, record=station, back=back)


@bp.post("/<record_id>/restore")
@require("restore_records")
def restore(record_id):
    station = get_or_404(Station, record_id, include_deleted=True)
    if DeleteForm().validate_on_submit():
        records.restore(station)
        flash(_("%(name)s has been restored.", name=station.name), "success")
    return redirect(url_for("stations.detail", record_id=record_id))
