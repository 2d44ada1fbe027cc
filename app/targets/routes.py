"""Service target pages: list, find, record, edit, delete, restore, and a picker."""
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from app.core import choices, records
from app.core.security import can, get_or_404, require
from app.models import ServiceTarget
from app.targets import bp, services
from app.targets.forms import TargetForm
from app.web import record_pages
from app.web.forms import field_labels
from app.web.htmx import invalid, render

VOCAB = {"kind": choices.TARGET_KINDS}
FILTERS = ("q", "kind", "village_id", "township_id", "flag", "show")


def _form(target=None) -> TargetForm:
    form = TargetForm(obj=target)
    form.village_id.choices = [("", "—")] + [(v.id, v.full_name) for v in services.villages()]
    if target is not None and not form.is_submitted() and not can("see_id_number"):
        form.id_number.data = ""
    return form


def _checked(form: TargetForm) -> bool:
    """Validate the form and the kind rules; errors land on the fields."""
    if not form.validate_on_submit():
        return False
    errors = services.rule_errors(form.data_for_save())
    for name, message in errors.items():
        form[name].errors.append(message)
    return not errors


@bp.get("/")
def index():
    args = {k: v for k, v in request.args.items() if k in FILTERS and v}
    if args.get("show") == "deleted" and not can("restore_records"):
        args.pop("show")
    page = records.paginate(services.filtered(args), request.args.get("page", 1, type=int))
    return render("targets/index.html", "targets/_results.html", page=page, args=args,
                  villages=services.villages(), townships=services.townships())


@bp.route("/new", methods=["GET", "POST"])
@require("edit_records")
def new():
    form = _form()
    if _checked(form):
        target = services.save(None, form.data_for_save())
        flash(_("Service target %(name)s has been recorded.", name=target.name), "success")
        return redirect(url_for("targets.detail", record_id=target.id))
    if form.is_submitted():
        return invalid("targets/form.html", form=form, target=None)
    return render("targets/form.html", form=form, target=None)


@bp.get("/search")
def search():
    """Search-as-you-type for pickers: a short list of matching targets as <option>s."""
    found = services.search((request.args.get("q") or "").strip())
    return render("targets/_options.html", targets=found)


@bp.get("/<record_id>")
def detail(record_id):
    target = get_or_404(ServiceTarget, record_id, include_deleted=can("restore_records"))
    return render("targets/detail.html", target=target, history=records.history(target),
                  vocab=VOCAB, labels=field_labels(TargetForm))


@bp.route("/<record_id>/edit", methods=["GET", "POST"])
@require("edit_records")
def edit(record_id):
    target = get_or_404(ServiceTarget, record_id)
    form = _form(target)
    if _checked(form):
        data = form.data_for_save()
        if not can("see_id_number") and not data["id_number"]:
            data.pop("id_number")  # the field was shown empty: keep what is there
        services.save(target, data)
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("targets.detail", record_id=target.id))
    if form.is_submitted():
        return invalid("targets/form.html", form=form, target=target)
    return render("targets/form.html", form=form, target=target)


@bp.route("/<record_id>/delete", methods=["GET", "POST"])
@require("delete_records")
def delete(record_id):
    target = get_or_404(ServiceTarget, record_id)
    return record_pages.confirm_delete(target, "targets")


@bp.post("/<record_id>/restore")
@require("restore_records")
def restore(record_id):
    target = get_or_404(ServiceTarget, record_id, include_deleted=True)
    return record_pages.restore(target, "targets")
