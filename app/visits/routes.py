"""Visit pages: list (filters, search, keyset pages, exports), detail, the full and the
short entry form, edit, delete and restore. Rules live in services.py."""
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from app.core import attachments, records
from app.core.i18n import gettext as _
from app.core.security import can, require
from app.models.base import new_id
from app.visits import bp, export, listing, options, services, vocab
from app.visits.forms import ReviewForm, VisitForm, history_labels
from app.web.forms import DeleteForm
from app.web.htmx import invalid, render
from app.web.options import OptionList

VOCAB = {"stage": vocab.STAGES, "mode": vocab.MODES, "review_state": vocab.REVIEW_STATES,
         "service_types": vocab.SERVICE_TYPES}


def _form(visit=None) -> VisitForm:
    form = VisitForm(obj=visit)
    form.station_id.choices = [("", "—")] + options.stations()
    form.village_id.choices = [("", "—")] + options.villages()
    form.cluster_id.choices = [("", "—")] + options.clusters()
    if form.is_submitted():
        return form
    if visit is None:
        form.visit_id.data = new_id()
        for key, value in services.defaults().items():
            form[key].data = value
        if current_user.commissioner_id and current_user.commissioner:
            clusters = current_user.commissioner.clusters
            form.cluster_id.data = clusters[0].id if clusters else None
    else:
        people = services.people_of(visit)  # one statement read at once, not two relations
        form.commissioner_ids.data = [person_id for person_id, _ in people["commissioners"]]
        form.target_ids.data = [target_id for target_id, _ in people["targets"]]
        form.service_types.data = visit.service_type_list
    return form


def _pickers(form: VisitForm) -> dict:
    """The chosen and the other commissioners and targets, for the pickers."""
    context = {}
    for kind, field in (("commissioners", form.commissioner_ids), ("targets", form.target_ids)):
        chosen = set(field.data or [])
        every = options.people(kind)
        context[kind + "_chosen"] = [c for c in every if c[0] in chosen]
        context[kind + "_other"] = every.without(chosen)
    return context


def _submit(form: VisitForm, visit=None):
    """Check the form, the visit rules and the photos; save when all is well. Returns the
    saved visit, or None with the errors on the fields (nothing written)."""
    if not form.is_submitted():
        return None
    form.validate_on_submit()
    data = form.data_for_save()
    photos = form.uploads()
    hint = services.exif_hint(photos) if form.use_photo_info.data and photos else {}
    for key, value in hint.items():  # the user agreed: the photo's time and place win
        data[key] = value
        form[key].data = value
        form[key].errors = []
    errors = {**services.errors(data, visit), **services.photo_errors(photos)}
    for name, message in errors.items():
        if not form[name].errors:
            form[name].errors = list(form[name].errors) + [message]
    if any(field.errors for field in form) or (form.meta.csrf and form.csrf_token.errors):
        return None
    saved = services.save(visit, data, photos, visit_id=form.visit_id.data)
    if form.use_photo_info.data and photos and not hint:
        flash(_("The photos carry no date or position; nothing was taken from them."), "warning")
    return saved


def _form_page(form, visit, short: bool, status_invalid: bool):
    template = "visits/short.html" if short else "visits/form.html"
    context = {"form": form, "visit": visit, "short": short, **_pickers(form),
               "max_mb": attachments.MAX_BYTES // 2**20}
    if status_invalid:
        return invalid(template, **context)
    return render(template, **context)


@bp.get("/")
def index():
    args = listing.clean_args(request.args, can("restore_records"))
    page = listing.paginate(args, after=request.args.get("after"),
                            before=request.args.get("before"), last=request.args.get("last") == "1")
    return render("visits/index.html", "visits/_results.html", page=page, args=args,
                  list_endpoint="visits.index", vocab=vocab, **_filter_options())


def _filter_options() -> dict:
    """The options of the list's filter drop-downs."""
    return {"commissioners": OptionList() if services.is_commissioner() else options.commissioners(),
            "villages": options.villages(), "clusters": options.clusters()}


@bp.get("/export.<fmt>")
def export_list(fmt):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    args = listing.clean_args(request.args, can("restore_records"))
    rows = listing.all_rows(listing.filtered(args), args)
    return export.csv_response(rows) if fmt == "csv" else export.xlsx_response(rows)


@bp.route("/new", methods=["GET", "POST"])
def new():
    if not services.may_create():
        abort(403)
    short = request.args.get("form") == "short" or (
        services.is_commissioner() and request.args.get("form") != "full")
    form = _form()
    earlier = services.already_saved(form.visit_id.data) if form.is_submitted() else None
    if earlier is not None:
        flash(_("Visit %(number)s had been saved already; it was not saved twice.",
                number=earlier.number), "success")
        return redirect(url_for("visits.detail", record_id=earlier.id))
    visit = _submit(form)
    if visit is not None:
        flash(_("Visit %(number)s has been recorded.", number=visit.number), "success")
        return redirect(url_for("visits.detail", record_id=visit.id))
    return _form_page(form, None, short, form.is_submitted())


@bp.get("/<record_id>")
def detail(record_id):
    visit = services.get(record_id, include_deleted=can("restore_records"))
    if visit is None:
        abort(404)
    return render("visits/detail.html", **_detail(visit, _review_form(visit)))


def _detail(visit, review_form) -> dict:
    """What the visit's page shows: the visit, its people, photos and history."""
    labels = history_labels()
    return {"visit": visit, "people": services.people_of(visit),
            "photos": attachments.for_record(visit), "present": attachments.present,
            "history": records.history(visit), "vocab": vocab, "history_vocab": VOCAB,
            "labels": labels, "can_edit": services.may_edit(visit), "review_form": review_form}


def _review_form(visit):
    if not can("review_records") or visit.deleted_at:
        return None
    return ReviewForm(obj=visit) if visit.review_state else ReviewForm()


@bp.post("/<record_id>/review")
@require("review_records")
def review(record_id):
    """A league reviewer marks a county's visit received, has issues or approved."""
    visit = services.get(record_id)
    if visit is None:
        abort(404)
    form = ReviewForm()
    if not form.validate_on_submit():
        return invalid("visits/detail.html", **_detail(visit, form))
    services.review(visit, form.review_state.data, form.review_comment.data or "")
    flash(_("The review has been saved; the station sees it after its next sync."), "success")
    return redirect(url_for("visits.detail", record_id=visit.id))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
def edit(record_id):
    visit = services.get(record_id)
    if visit is None:
        abort(404)
    if not services.may_edit(visit):
        abort(403)
    form = _form(visit)
    saved = _submit(form, visit)
    if saved is not None:
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("visits.detail", record_id=visit.id))
    return _form_page(form, visit, False, form.is_submitted())


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete(record_id):
    visit = services.get(record_id)
    if visit is None:
        abort(404)
    if not services.may_edit(visit):
        abort(403)
    form = DeleteForm()
    if form.validate_on_submit():
        records.soft_delete(visit)
        flash(_("%(name)s has been deleted. An admin can restore it.", name=visit.number), "success")
        return redirect(url_for("visits.index"))
    return render("records/confirm_delete.html", form=form, record=visit,
                  back=url_for("visits.detail", record_id=record_id))


@bp.post("/<record_id>/restore")
@require("restore_records")
def restore(record_id):
    visit = services.get(record_id, include_deleted=True)
    if visit is None:
        abort(404)
    if DeleteForm().validate_on_submit() and visit.deleted_at is not None:
        records.restore(visit)
        flash(_("%(name)s has been restored.", name=visit.number), "success")
    return redirect(url_for("visits.detail", record_id=record_id))


@bp.get("/chosen/<kind>")
def chosen(kind):
    """The picker's chosen list for the ids in the query (htmx, after a pick)."""
    name = {"commissioners": "commissioner_ids", "targets": "target_ids"}.get(kind)
    if name is None:
        abort(404)
    ids = list(dict.fromkeys(i for i in request.args.getlist(name) if i))
    found = dict(options.people(kind, ids)) if ids else {}
    return render("visits/_chosen.html", records=[(i, found[i]) for i in ids if i in found],
                  name=name)
