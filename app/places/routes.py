"""Places: list, find, see, and for townships and villages add, edit, delete, restore
(app/web/pages.py). Rules and scope live in services; these views parse and render."""
from flask import abort, redirect, request, url_for

from app.core import choices
from app.core.i18n import gettext as _
from app.core.security import can, require
from app.models import Place
from app.places import bp, listing, services
from app.places.forms import PlaceForm
from app.web.forms import field_labels
from app.web.htmx import render
from app.web.pages import RecordPages, page_number

FILTERS = ("q", "level", "county", "township", "show")

pages = RecordPages(
    "places", Place, "place", delete_blockers=services.delete_blockers, restore=services.restore,
    get=lambda record_id, include_deleted: services.get_or_404(record_id,
                                                                include_deleted=include_deleted),
    created=lambda place: _("%(name)s has been added.", name=place.name))


def _level(value: str | None) -> str:
    return value if value in services.LOCAL_LEVELS else "township"


def _form(level: str, place=None) -> PlaceForm:
    form = PlaceForm(obj=place, parent_id=None if place else request.args.get("parent"))
    parents = services.parent_options(level)
    many_counties = len({p.parent_id for p in parents}) > 1
    form.parent_id.choices = [("", "—")] + [
        (p.id, services.label(p, with_county=many_counties)) for p in parents]
    return form


def _form_page(level: str, place=None):
    form = _form(level, place)
    checked = pages.checked(form, place, lambda data, record: services.errors(data, record, level))
    return pages.form_page(form, place, checked=checked, level=level,
                           save=lambda record, data: services.save(record, level, data))


def _editable(place) -> bool:
    return place.level in services.LOCAL_LEVELS and can("edit_records")


def _editable_or_403(place):
    if not _editable(place):
        abort(403)
    return place


@bp.get("/")
def index():
    args = pages.filter_args(FILTERS)
    counties = services.counties()
    county_id = args.get("county") or (counties[0].id if len(counties) == 1 else None)
    return pages.list(listing.paginate(args, page_number()), args, counties=counties,
                      townships=services.township_options(county_id) if county_id else [])


@bp.get("/search")
def search():
    """Search-as-you-type for pickers: ``<option>`` elements of matching places."""
    level = request.args.get("level") or "village"
    found = services.search((request.args.get("q") or "").strip(), level)
    return render("places/_options.html", places=found, label=services.label)


@bp.route("/new", methods=["GET", "POST"])
@require("edit_records")
def new():
    return _form_page(_level(request.args.get("level")))


@bp.get("/<record_id>")
def detail(record_id):
    place = pages.shown(record_id)
    return pages.detail(place, ancestors=services.ancestors_of(place),
                        children=services.children_of(place),
                        may_add=can("edit_records") and services.may_add_under(place),
                        can_edit=_editable(place),
                        labels={**field_labels(PlaceForm), "level": _("Level")},
                        vocab={"level": choices.PLACE_LEVELS})


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    place = _editable_or_403(pages.get(record_id))
    return _form_page(place.level, place)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete(record_id):
    return pages.confirm_delete(_editable_or_403(pages.get(record_id)))


@bp.post("/<record_id>/restore")
@require("restore_records")
def restore(record_id):
    place = pages.get(record_id, deleted=True)
    if place.level not in services.LOCAL_LEVELS:  # shipped places are never deleted here
        return redirect(url_for("places.detail", record_id=record_id))
    return pages.restore(place)
