"""Import pages: the template, the upload and its preview, and the confirm."""
import io

from flask import abort, flash, redirect, request, send_file, url_for
from flask_login import current_user

from app.commissioners import services as commissioner_services
from app.core import files, spreadsheet
from app.core.extensions import db
from app.core.i18n import gettext as _
from app.core.security import require
from app.imports import bp, services, workbook
from app.imports import export as list_export
from app.imports.columns import SPECS
from app.imports.forms import ConfirmForm, UploadForm
from app.targets import services as target_services
from app.web.htmx import invalid, render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _spec(kind):
    spec = SPECS.get(kind)
    if spec is None:
        abort(404)
    return spec


def _page(spec, form, status=200, **context):
    return render("imports/start.html", status=status, spec=spec, form=form,
                  max_rows=workbook.MAX_ROWS, max_mb=workbook.MAX_BYTES // 2**20, **context)


@bp.route("/<kind>", methods=["GET", "POST"])
@require("import_records")
def start(kind):
    """The upload form; a posted file comes back as its preview."""
    spec = _spec(kind)
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(spec, form, 422 if form.is_submitted() else 200)
    upload = form.file.data
    data = upload.stream.read(workbook.MAX_BYTES + 1)
    try:
        result = services.check_file(spec, data)
    except workbook.FileProblem as problem:
        form.file.errors.append(str(problem))
        return _page(spec, form, 422)
    token = services.store(kind, data, upload.filename or "") if result.ok else None
    return _preview(spec, result, token, files.safe_filename(upload.filename))


def _preview(spec, result, token, filename):
    context = {"spec": spec, "result": result, "filename": filename,
               "confirm": ConfirmForm(token=token) if token else None, "upload": UploadForm()}
    if not result.ok:
        return invalid("imports/preview.html", **context)
    return render("imports/preview.html", **context)


@bp.post("/<kind>/confirm")
@require("import_records")
def confirm(kind):
    """Write a previewed file: checked again, then all rows in one transaction."""
    spec = _spec(kind)
    form = ConfirmForm()
    stored = services.load(kind, form.token.data) if form.validate_on_submit() else None
    if stored is None:
        upload = UploadForm(formdata=None)
        upload.file.errors = [_("This upload is no longer available. Upload the file again.")]
        return _page(spec, upload, 422)
    data, filename = stored
    try:
        result = services.check_file(spec, data)
    except workbook.FileProblem as problem:
        upload = UploadForm(formdata=None)
        upload.file.errors = [str(problem)]
        return _page(spec, upload, 422)
    if not result.ok:  # the records changed since the preview
        services.discard(form.token.data)
        return _preview(spec, result, None, filename)
    count = services.write(spec, result)
    services.discard(form.token.data)
    flash(_("%(count)s records have been imported.", count=count), "success")
    return redirect(url_for(spec.list_endpoint))


@bp.get("/<kind>/template.xlsx")
@require("import_records")
def template(kind):
    """The template to fill in, with one example row."""
    spec = _spec(kind)
    name = {"commissioners": "科技特派员导入模板.xlsx", "targets": "服务对象导入模板.xlsx"}[kind]
    return send_file(io.BytesIO(workbook.template(spec, services.example(spec))), mimetype=XLSX,
                     as_attachment=True, download_name=name)


LISTS = {"commissioners": ("科技特派员", commissioner_services.filtered),
         "targets": ("服务对象", target_services.filtered)}


@bp.get("/<list_kind>/export.xlsx")
def export(list_kind):
    """The list (its filters, every page) in the columns of the import template:
    edited, the file imports back (rows already recorded unchanged are skipped). The
    kind of list is ``list_kind``: the target list has a filter called ``kind``."""
    spec = _spec(list_kind)
    what, filtered = LISTS[list_kind]
    args = {k: v for k, v in request.args.items() if k != "show"}
    found = db.session.scalars(filtered(args)).all()
    data = spreadsheet.xlsx(spec.sheet, list_export.columns(spec), list_export.rows(spec, found))
    return spreadsheet.response(data, what, current_user.node_code)
