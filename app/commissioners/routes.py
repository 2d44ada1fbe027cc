"""Commissioner pages: list, detail, new, edit, delete, restore (app/web/pages.py), and
the pickers' search."""
from flask import request
from sqlalchemy.orm import joinedload

from app.assessments import services as assessments
from app.assessments.vocab import GRADES
from app.commissioners import bp, listing, services
from app.commissioners.forms import CommissionerForm
from app.core import choices
from app.core.i18n import gettext as _
from app.core.security import can, get_or_404
from app.models import Commissioner
from app.web import options
from app.web.forms import field_labels
from app.web.htmx import render
from app.web.pages import RecordPages, page_number

VOCAB = {"kind": choices.COMMISSIONER_KINDS, "level": choices.LEVELS,
         "sending_org_type": choices.SENDING_ORG_TYPES, "sex": choices.SEXES,
         "local_talent_kind": choices.LOCAL_TALENT_KINDS, "status": choices.COMMISSIONER_STATUSES}
FILTERS = ("q", "kind", "level", "status", "sending_org_type", "station_id", "cluster", "flag", "show")


def _form(commissioner=None) -> CommissionerForm:
    form = CommissionerForm(obj=commissioner)
    form.cluster_ids.choices = options.clusters()
    form.station_id.choices = [("", "—")] + options.stations()
    form.village_ids.choices = options.villages()
    if commissioner is not None and not form.is_submitted():
        form.cluster_ids.data = [c.id for c in commissioner.clusters]
        form.village_ids.data = [v.id for v in commissioner.villages]
        if not can("see_id_number"):
            form.id_number.data = ""
    return form


def _save(commissioner, data: dict):
    if commissioner is not None and not can("see_id_number") and not data["id_number"]:
        data.pop("id_number")  # the field was shown empty: keep what is there
    return services.save(commissioner, data)


pages = RecordPages(
    "commissioners", Commissioner, "commissioner", form=_form, save=_save,
    errors=services.errors,
    get=lambda record_id, include_deleted: get_or_404(  # with the station its page shows
        Commissioner, record_id, include_deleted=include_deleted,
        options=(joinedload(Commissioner.station),)),
    created=lambda c: _("Commissioner %(name)s has been recorded.", name=c.name))


@bp.get("/")
def index():
    args = pages.filter_args(FILTERS)
    return pages.list(listing.paginate(args, page_number()), args, clusters=options.clusters(),
                      stations=options.stations())


@bp.get("/<record_id>")
def detail(record_id):
    commissioner = pages.shown(record_id)
    return pages.detail(commissioner, vocab=VOCAB, labels=field_labels(CommissionerForm),
                        assessments=assessments.graded(commissioner_id=commissioner.id),
                        grades=GRADES, served=services.served(commissioner.id))


@bp.get("/search")
def search():
    """Search-as-you-type for pickers: a short list of matching commissioners."""
    found = services.search((request.args.get("q") or "").strip())
    return render("commissioners/_options.html", commissioners=found)


# The shared write pages (app/web/pages.py), each behind its permission.
bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/edit", "edit", pages.edit_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/delete", "delete", pages.delete_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/restore", "restore", pages.restore_view, methods=["POST"])
