"""The delete and restore steps every record type shares: a confirm page, the soft
delete (a tombstone that syncs), and an admin's restore, with the same words everywhere.
Areas with something to check first (a station still in use) do it before calling."""
from flask import flash, redirect, url_for
from flask_babel import gettext as _

from app.core import records
from app.web.forms import DeleteForm
from app.web.htmx import render


def confirm_delete(record, area: str, name: str | None = None):
    """GET: the confirm page. POST (confirmed): soft-delete, then back to the list."""
    form = DeleteForm()
    if form.validate_on_submit():
        records.soft_delete(record)
        flash(_("%(name)s has been deleted. An admin can restore it.", name=name or str(record)),
              "success")
        return redirect(url_for(f"{area}.index"))
    return render("records/confirm_delete.html", form=form, record=record,
                  back=url_for(f"{area}.detail", record_id=record.id))


def restore(record, area: str, name: str | None = None):
    """POST: bring a soft-deleted record back, then show it."""
    if DeleteForm().validate_on_submit():
        records.restore(record)
        flash(_("%(name)s has been restored.", name=name or str(record)), "success")
    return redirect(url_for(f"{area}.detail", record_id=record.id))
