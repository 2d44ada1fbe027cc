"""Places: list, find, see, and for townships and villages add, edit, delete, restore.
Rules and scope live in services; these views parse and render."""
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _

from app.core import choices, records
from app.core.security import can, require
from app.places import bp, services
from app.places.forms import PlaceForm
from app.web.forms import DeleteForm, field_labels
from app.web.htmx import invalid, render

FILTERS = ("q", "level", "county", "township", "show")


def _labels() -> dict:
    return {**field_labels(PlaceForm), "level": _("Level")}


def _level(value: str | None) -> str:
    return value if value in services.LOCAL_LEVELS else "township"


def _form(level: str, place=None) -> PlaceForm:
    form = PlaceForm(obj=place, parent_id=None if place else request.args.get("parent"))
    parents = services.parent_options(level)
    many_counties = len({p.parent_id for p in parents}) > 1
    form.parent_id.choices = [("", "—")] + [
        (p.id, services.label(p, with_county=many_counties)) for p in parents]
    return form


def _checked(form: PlaceForm, level: str, place=None) -> bool:
    """Validate the form, then the rules that need the database; errors land on fields."""
    if not form.validate_on_submit():
        return False
    errors = services.place_errors(place, level, form.data_for_save())
    for name, message in errors.items():
        form[name].errors.append(message)
    return not errors


def _editable(place) -> bool:
    return place.level in services.LOCAL_LEVELS and can("edit_records")


@bp.get("/")
def index():
    args = {k: v for k, v in request.args.items() if k in FILTERS and v}
    if args.get("show") == "deleted" and not can("restore_records"):
        args.pop("show")
    page = records.paginate(services.filtered(args), request.args.get("page", 1, type=int))
    counties = services.counties()
    county_id = args.get("county") or (counties[0].id if len(counties) == 1 else None)
    return render("places/index.html", "places/_results.html", page=page, args=args,
                  counties=counties,
                  townships=services.townships(county_id=county_id) if county_id else [],
                  label=services.label)


@bp.get("/search")
def search():
    """Search-as-you-type for pickers: ``<option>`` elements of matching places."""
    level = request.args.get("level") or "village"
    found = services.search((request.args.get("q") or "").strip(), level)
    return render("places/_options.html", places=found, label=services.label)


@bp.route("/new", methods=["GET", "POST"])
@require("edit_records")
def new():
    level = _level(request.args.get("level"))
    form = _form(level)
    if _checked(form, level):
        place = services.save(None, level, form.data_for_save())
        flash(_("%(name)s has been added.", name=place.name), "success")
        return redirect(url_for("places.detail", record_id=place.id))
    respond = invalid if form.is_submitted() else render
    return respond("places/form.html", form=form, place=None, level=level)


@bp.get("/<record_id>")
def detail(record_id):
    place = services.get_or_404(record_id, include_deleted=can("restore_records"))
    return render("places/detail.html", place=place,
                  ancestors=services.ancestors_of(place),
                  children=services.children_of(place),
                  may_add=can("edit_records") and services.may_add_under(place),
                  can_edit=_editable(place),
                  history=records.history(place), labels=_labels(),
                  vocab={"level": choices.PLACE_LEVELS})


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    place = services.get_or_404(record_id)
    if not _editable(place):
        abort(403)
    form = _form(place.level, place)
    if _checked(form, place.level, place):
        services.save(place, place.level, form.data_for_save())
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("places.detail", record_id=place.id))
    respond = invalid if form.is_submitted() else render
    return respond("places/form.html", form=form, place=place, level=place.level)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete(record_id):
    place = services.get_or_404(record_id)
    if not _editable(place):
        abort(403)
    back = url_for("places.detail", record_id=record_id)
    form = DeleteForm()
    reasons = services.delete_blockers(place)
    if not reasons and form.validate_on_submit():
        reasons = services.delete(place)
        if not reasons:
            flash(_("%(name)s has been deleted. An admin can restore it.", name=place.name),
                  "success")
            return redirect(url_for("places.index"))
    if reasons:
        return render("places/delete_refused.html", record=place, reasons=reasons, back=back,
                      status=409)
    return render("records/confirm_delete.html", form=form, record=place, back=back)


@bp.post("/<record_id>/restore")
@require("restore_records")
def restore(record_id):
    place = services.get_or_404(record_id, include_deleted=True)
    if place.level in services.LOCAL_LEVELS and DeleteForm().validate_on_submit():
        problem = services.restore(place)
        if problem:
            flash(problem, "error")
        else:
            flash(_("%(name)s has been restored.", name=place.name), "success")
    return redirect(url_for("places.detail", record_id=record_id))
