"""The page skeleton every area composes: list, detail, new, edit, delete and restore.

An area makes one ``RecordPages`` for its record type, saying what is particular to it
(the form, the service's rules and writes, what keeps a record from being deleted or
restored), and its routes.py keeps the URLs:

    pages = RecordPages("teams", ServiceTeam, "team", form=_form, save=services.save,
                        errors=services.errors, created=lambda team: _("…", name=team.name))

    @bp.get("/")                                  # a list: filters, a page, htmx partial
    def index():
        args = pages.filter_args(FILTERS)
        return pages.list(services.filtered(args), args, clusters=options.clusters())

    @bp.get("/<record_id>")                       # a record with its history
    def detail(record_id):
        return pages.detail(pages.shown(record_id), labels=field_labels(TeamForm))

    bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"])  # and edit,
    # delete, restore likewise: the shared write views, each behind its permission

An area whose new or edit page needs more (a level, a parent record) writes that view
itself and calls ``pages.form_page``; ``confirm_delete`` and ``restore`` likewise.

The service's hooks have one signature everywhere: ``errors(data, record=None) -> dict``
(field: message), ``save(record, data) -> record`` (record None: create),
``delete_blockers(record) -> list[str]`` (why it cannot be deleted now) and
``restore(record) -> str | None`` (restores it, or says why not). The templates are
``<area>/index.html`` and ``_results.html`` (on templates/layouts/list.html and
results.html), ``form.html`` (layouts/form.html), ``detail.html`` (layouts/detail.html);
a refused delete shows records/cannot_delete.html.
"""
from collections.abc import Callable

from flask import abort, flash, redirect, request, url_for
from sqlalchemy import Select

from app.core import records
from app.core.i18n import gettext as _
from app.core.security import can, get_or_404
from app.web.forms import DeleteForm
from app.web.htmx import invalid, render


def page_number() -> int:
    return request.args.get("page", 1, type=int)


def add_errors(form, errors: dict) -> bool:
    """Put the service's {field: message} on the form's fields; True when there were none."""
    for name, message in errors.items():
        form[name].errors.append(message)
    return not errors


class RecordPages:
    """The pages of one record type. ``area`` is its endpoint prefix ("teams",
    "stations.sites"), ``noun`` the name its templates know the record by ("team")."""

    def __init__(self, area: str, model, noun: str, *, created: Callable | None = None,
                 form: Callable | None = None, save: Callable | None = None,
                 errors: Callable | None = None, delete_blockers: Callable | None = None,
                 restore: Callable | None = None, get: Callable | None = None,
                 name: Callable = str, templates: str | None = None,
                 see_deleted: str = "restore_records", write: str = "edit_records",
                 delete: str = "delete_records", after_delete: Callable | None = None):
        self.area, self.model, self.noun = area, model, noun
        self.created, self.make_form, self.save, self.errors = created, form, save, errors
        self.delete_blockers, self.restore_record = delete_blockers, restore or records.restore
        self.get_record = get or (lambda record_id, include_deleted:
                                  get_or_404(model, record_id, include_deleted=include_deleted))
        self.name = name
        self.templates = templates or f"{area}/"
        self.see_deleted, self.write_permission, self.delete_permission = see_deleted, write, delete
        self.after_delete = after_delete or (lambda record: url_for(f"{area}.index"))

    # --- reading -------------------------------------------------------------------------

    def template(self, page: str) -> str:
        return f"{self.templates}{page}.html"

    def get(self, record_id: str, deleted: bool = False):
        """The record, or 404 (a deleted one only with ``deleted``)."""
        return self.get_record(record_id, include_deleted=deleted)

    def shown(self, record_id: str):
        """The record as its page shows it: deleted ones too, to who may restore them."""
        return self.get(record_id, deleted=can(self.see_deleted))

    def filter_args(self, names) -> dict:
        """The list's filters from the query string (only ``names``, only with a value);
        ``show=deleted`` only for who may see deleted records."""
        args = {k: v for k, v in request.args.items() if k in names and v}
        if args.get("show") == "deleted" and not can(self.see_deleted):
            args.pop("show")
        return args

    def list(self, rows, args: dict, **context):
        """The list page, or its results partial for htmx. ``rows`` is a select (the plain
        lists: paginated here) or a page already read (the fast lists' listing.py)."""
        page = records.paginate(rows, page_number()) if isinstance(rows, Select) else rows
        return render(self.template("index"), self.template("_results"), page=page,
                      args=args, list_endpoint=f"{self.area}.index", **context)

    def detail(self, record, **context):
        """The record's page, with its history unless the area passes its own."""
        if "history" not in context:
            context["history"] = records.history(record)
        return render(self.template("detail"), **{self.noun: record}, **context)

    # --- writing -------------------------------------------------------------------------

    def checked(self, form, record=None, errors: Callable | None = None) -> bool:
        """The form's validators, then the service's rules, whose errors land on the fields."""
        if not form.validate_on_submit():
            return False
        errors = errors or self.errors
        return add_errors(form, errors(form.data_for_save(), record)) if errors else True

    def form_page(self, form, record=None, save: Callable | None = None, checked=None,
                  **context):
        """New (``record`` None) or edit: once the form is valid (``checked``, by default
        ``self.checked``), ``save(record, data)``, say so and show the saved record;
        else the form page, as 422 when it was sent (nothing written)."""
        valid = self.checked(form, record) if checked is None else checked
        if valid:
            saved = (save or self.save)(record, form.data_for_save())
            flash(self.created(saved) if record is None else _("Your changes have been saved."),
                  "success")
            return redirect(url_for(f"{self.area}.detail", record_id=saved.id))
        respond = invalid if form.is_submitted() else render
        return respond(self.template("form"), form=form, **{self.noun: record}, **context)

    def confirm_delete(self, record):
        """GET: the confirm page. POST (confirmed): soft-delete, then back to the list.
        While ``delete_blockers`` names reasons: the one "cannot delete" page (409 if the
        delete was sent anyway), nothing written."""
        form = DeleteForm()
        back = url_for(f"{self.area}.detail", record_id=record.id)
        reasons = self.delete_blockers(record) if self.delete_blockers else []
        if reasons:
            return render("records/cannot_delete.html", status=409 if form.is_submitted() else 200,
                          record=record, name=self.name(record), reasons=reasons, back=back)
        if form.validate_on_submit():
            records.soft_delete(record)
            flash(_("%(name)s has been deleted. An admin can restore it.", name=self.name(record)),
                  "success")
            return redirect(self.after_delete(record))
        return render("records/confirm_delete.html", form=form, record=record, back=back)

    def restore(self, record):
        """POST: bring a soft-deleted record back (unless ``restore`` says why not), then
        show it."""
        if DeleteForm().validate_on_submit():
            problem = self.restore_record(record)
            if problem:
                flash(problem, "error")
            else:
                flash(_("%(name)s has been restored.", name=self.name(record)), "success")
        return redirect(url_for(f"{self.area}.detail", record_id=record.id))

    # --- the shared write views, for an area's routes.py ----------------------------------
    # bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"]) and the like:
    # each checks its permission (``write``, ``delete``, ``see_deleted``) first. An area
    # whose new or edit page needs more writes that view itself with ``form_page``.

    def new_view(self):
        _allowed(self.write_permission)
        return self.form_page(self.make_form(None))

    def edit_view(self, record_id):
        _allowed(self.write_permission)
        record = self.get(record_id)
        return self.form_page(self.make_form(record), record)

    def delete_view(self, record_id):
        _allowed(self.delete_permission)
        return self.confirm_delete(self.get(record_id))

    def restore_view(self, record_id):
        _allowed(self.see_deleted)
        return self.restore(self.get(record_id, deleted=True))


def _allowed(permission: str) -> None:
    if not can(permission):
        abort(403)
