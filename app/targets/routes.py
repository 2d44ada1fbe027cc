"""Service target pages: list, detail, new, edit, delete, restore (app/web/pages.py),
and the pickers' search."""
from flask import request

from app.core import choices
from app.core.i18n import gettext as _
from app.core.security import can
from app.models import ServiceTarget
from app.targets import bp, listing, services
from app.targets.forms import TargetForm
from app.web import options
from app.web.forms import field_labels
from app.web.htmx import render
from app.web.pages import RecordPages, page_number

VOCAB = {"kind": choices.TARGET_KINDS}
FILTERS = ("q", "kind", "village_id", "township_id", "flag", "show")


def _form(target=None) -> TargetForm:
    form = TargetForm(obj=target)
    form.village_id.choices = [("", "—")] + options.villages()
    if target is not None and not form.is_submitted() and not can("see_id_number"):
        form.id_number.data = ""
    return form


def _save(target, data: dict):
    if target is not None and not can("see_id_number") and not data["id_number"]:
        data.pop("id_number")  # the field was shown empty: keep what is there
    return services.save(target, data)


pages = RecordPages(
    "targets", ServiceTarget, "target", form=_form, save=_save, errors=services.errors,
    created=lambda target: _("Service target %(name)s has been recorded.", name=target.name))


@bp.get("/")
def index():
    args = pages.filter_args(FILTERS)
    return pages.list(listing.paginate(args, page_number()), args, villages=options.villages(),
                      townships=options.townships())


@bp.get("/search")
def search():
    """Search-as-you-type for pickers: a short list of matching targets as <option>s."""
    found = services.search((request.args.get("q") or "").strip())
    return render("targets/_options.html", targets=found)


@bp.get("/<record_id>")
def detail(record_id):
    return pages.detail(pages.shown(record_id), vocab=VOCAB, labels=field_labels(TargetForm))


# The shared write pages (app/web/pages.py), each behind its permission.
bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/edit", "edit", pages.edit_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/delete", "delete", pages.delete_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/restore", "restore", pages.restore_view, methods=["POST"])
