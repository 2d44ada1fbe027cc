"""Station pages: list, detail (clusters, sites, commissioners, history), new, edit,
delete (refused while sites or commissioners remain), restore (app/web/pages.py)."""
from flask_login import current_user
from sqlalchemy.orm import joinedload

from app.assessments import services as assessments
from app.assessments.vocab import GRADES
from app.core import choices, records, spreadsheet
from app.core.extensions import db
from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.core.security import can, get_or_404
from app.models import Station
from app.stations import bp, export, services
from app.stations.forms import StationForm
from app.web import options
from app.web.forms import field_labels
from app.web.pages import RecordPages, page_number

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
    form.cluster_ids.choices = options.clusters()
    if station is not None and not form.is_submitted():
        form.cluster_ids.data = [c.id for c in station.clusters]
    return form


pages = RecordPages(
    "stations", Station, "station", form=_form, save=services.save_station,
    get=lambda record_id, include_deleted: get_or_404(
        Station, record_id, include_deleted=include_deleted, options=(joinedload(Station.county),)),
    delete_blockers=services.delete_blockers,
    created=lambda station: _("Station %(name)s has been recorded.", name=station.name))


@bp.get("/")
def index():
    args = pages.filter_args(FILTERS)
    page = records.paginate(services.filtered(args).options(joinedload(Station.county)),
                            page_number())
    return pages.list(page, args, counties=services.county_options(), clusters=options.clusters(),
                      cluster_names=services.cluster_names([station.id for station in page.items]))


@bp.get("/export.xlsx")
def export_list():
    """The filtered list (every page) as XLSX, with Chinese headers."""
    args = {k: v for k, v in pages.filter_args(FILTERS).items() if k != "show"}
    found = db.session.scalars(services.filtered(args)).all()
    with force_locale("zh_CN"):
        data = spreadsheet.xlsx("工作站", export.COLUMNS, export.rows(found))
    return spreadsheet.response(data, "工作站", current_user.node_code)


@bp.get("/<record_id>")
def detail(record_id):
    station = pages.shown(record_id)
    return pages.detail(station, history=services.masked_history(records.history(station)),
                        vocab=VOCAB, labels=field_labels(StationForm),
                        sites=services.live_sites(station),
                        cluster_names=services.cluster_names([station.id])[station.id],
                        deleted_sites=services.deleted_sites(station) if can("restore_records") else [],
                        commissioners=services.commissioners_of(station),
                        status_labels={code: str(text) for code, text in choices.COMMISSIONER_STATUSES.items()},
                        assessments=assessments.graded(station_id=station.id), grades=GRADES)


# The shared write pages (app/web/pages.py), each behind its permission.
bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/edit", "edit", pages.edit_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/delete", "delete", pages.delete_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/restore", "restore", pages.restore_view, methods=["POST"])
