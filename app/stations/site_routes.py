"""Site pages, nested under a station: new (from the station), detail with history,
edit, delete, restore. Endpoints are ``stations.sites.<name>``."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _

from app.core import choices, records
from app.core.security import can, get_or_404, require
from app.models import Site, Station
from app.stations import services
from app.stations import sites_bp as bp
from app.stations.forms import SiteForm
from app.web.forms import DeleteForm, field_labels
from app.web.htmx import invalid, render

VOCAB = {"kind": choices.SITE_KINDS}


def _form(site=None) -> SiteForm:
    form = SiteForm(obj=site)
    villages = services.village_options()
    clusters = services.cluster_options()
    if site is not None:  # keep what is set even if it left the options
        if site.village and site.village not in villages:
            villages = [site.village] + villages
        if site.cluster and site.cluster not in clusters:
            clusters = [site.cluster] + clusters
    form.village_id.choices = [("", "—")] + [(v.id, v.full_name) for v in villages]
    form.cluster_id.choices = [("", "—")] + [(c.id, c.name) for c in clusters]
    return form


@bp.route("/<station_id>/sites/new", methods=["GET", "POST"])
@require("edit_records")
def new(station_id):
    station = get_or_404(Station, station_id)
    form = _form()
    if form.validate_on_submit():
        site = services.save_site(None, form.data_for_save(), station)
        flash(_("Site %(name)s has been recorded.", name=site.name), "success")
        return redirect(url_for("stations.sites.detail", record_id=site.id))
    context = {"form": form, "site": None, "station": station}
    if form.is_submitted():
        return invalid("stations/site_form.html", **context)
    return render("stations/site_form.html", **context)


@bp.get("/sites/<record_id>")
def detail(record_id):
    site = get_or_404(Site, record_id, include_deleted=can("restore_records"))
    return render("stations/site_detail.html", site=site, history=records.history(site),
                  vocab=VOCAB, labels={**field_labels(SiteForm), "station": _("Station")})


@bp.route("/sites/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    site = get_or_404(Site, record_id)
    form = _form(site)
    if form.validate_on_submit():
        services.save_site(site, form.data_for_save())
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("stations.sites.detail", record_id=site.id))
    context = {"form": form, "site": site, "station": site.station}
    if form.is_submitted():
        return invalid("stations/site_form.html", **context)
    return render("stations/site_form.html", **context)


@bp.route("/sites/<record_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete(record_id):
    site = get_or_404(Site, record_id)
    form = DeleteForm()
    if form.validate_on_submit():
        records.soft_delete(site)
        flash(_("%(name)s has been deleted. An admin can restore it.", name=site.name), "success")
        return redirect(url_for("stations.detail", record_id=site.station_id))
    return render("records/confirm_delete.html", form=form, record=site,
                  back=url_for("stations.sites.detail", record_id=record_id))


@bp.post("/sites/<record_id>/restore")
@require("restore_records")
def restore(record_id):
    site = get_or_404(Site, record_id, include_deleted=True)
    if DeleteForm().validate_on_submit():
        blocker = services.site_restore_blocker(site)
        if blocker:
            flash(blocker, "error")
        else:
            records.restore(site)
            flash(_("%(name)s has been restored.", name=site.name), "success")
    return redirect(url_for("stations.sites.detail", record_id=record_id))
