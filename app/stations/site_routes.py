"""Site pages, nested under a station: new (from the station), detail with history,
edit, delete, restore (app/web/pages.py). Endpoints are ``stations.sites.<name>``."""
from flask import url_for

from app.core import choices
from app.core.i18n import gettext as _
from app.core.security import get_or_404, require
from app.models import Site, Station
from app.stations import services
from app.stations import sites_bp as bp
from app.stations.forms import SiteForm
from app.web import options
from app.web.forms import field_labels
from app.web.pages import RecordPages

VOCAB = {"kind": choices.SITE_KINDS}


def _form(site=None) -> SiteForm:
    form = SiteForm(obj=site)
    villages, clusters = list(options.villages()), list(options.clusters())
    if site is not None:  # keep what is set even if it left the options
        if site.village and site.village_id not in dict(villages):
            villages = [(site.village_id, site.village.full_name)] + villages
        if site.cluster and site.cluster_id not in dict(clusters):
            clusters = [(site.cluster_id, site.cluster.name)] + clusters
    form.village_id.choices = [("", "—")] + villages
    form.cluster_id.choices = [("", "—")] + clusters
    return form


pages = RecordPages(
    "stations.sites", Site, "site", templates="stations/site_", form=_form,
    save=services.save_site, restore=services.restore_site,
    after_delete=lambda site: url_for("stations.detail", record_id=site.station_id),
    created=lambda site: _("Site %(name)s has been recorded.", name=site.name))


@bp.route("/<station_id>/sites/new", methods=["GET", "POST"])
@require("edit_records")
def new(station_id):
    station = get_or_404(Station, station_id)
    return pages.form_page(_form(), None, station=station,
                           save=lambda site, data: services.save_site(None, data, station))


@bp.get("/sites/<record_id>")
def detail(record_id):
    return pages.detail(pages.shown(record_id), vocab=VOCAB,
                        labels={**field_labels(SiteForm), "station": _("Station")})


@bp.route("/sites/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    site = pages.get(record_id)
    return pages.form_page(_form(site), site, station=site.station)


# The shared delete and restore pages (app/web/pages.py), each behind its permission.
bp.add_url_rule("/sites/<record_id>/delete", "delete", pages.delete_view, methods=["GET", "POST"])
bp.add_url_rule("/sites/<record_id>/restore", "restore", pages.restore_view, methods=["POST"])
