"""Report pages: the index, and each report as a page, JSON (``?format=json``) or XLSX
(``?format=xlsx``). Bad parameters come back as 400 with the reason; another node's
scope is a 404."""
import io

from flask import abort, jsonify, request, send_file

from app.core import cache
from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.core.security import reading_scope
from app.reports import bp, export, services
from app.reports.params import ReportError
from app.web.htmx import render

FORMATS = ("html", "json", "xlsx")


@bp.get("/")
def index():
    return render("reports/index.html", reports=services.REPORTS,
                  breakdowns=services.BREAKDOWNS)


@bp.get("/<name>")
def report(name):
    fmt = request.args.get("format", "html")
    try:
        if fmt not in FORMATS:
            raise ReportError(_("Unknown format: %(format)s.", format=fmt[:20]))
        if fmt == "xlsx":
            with force_locale("zh_CN"):  # the file is in Chinese whatever the interface
                found = services.build(name, request.args)
                # the workbook of a remembered answer is written once too
                content = cache.remembered(
                    ("report-xlsx", found.name, found.breakdown, found.period.start,
                     found.period.end, found.scope.code, *reading_scope()),
                    lambda: export.to_xlsx(found))
            return send_file(io.BytesIO(content), mimetype=export.XLSX, as_attachment=True,
                             download_name=export.filename(found))
        found = services.build(name, request.args)
    except ReportError as problem:
        if problem.status == 404:
            abort(404)
        if fmt == "json":
            return jsonify({"error": str(problem)}), problem.status
        return render("reports/report.html", "reports/_table.html", status=problem.status,
                      report=None, error=str(problem), name=name, args=request.args.to_dict(),
                      reports=services.REPORTS, breakdowns=services.BREAKDOWNS.get(name, {}))
    if fmt == "json":
        return jsonify(found.as_json())
    return render("reports/report.html", "reports/_table.html", report=found, error=None,
                  name=name, args=request.args.to_dict(), reports=services.REPORTS,
                  breakdowns=services.BREAKDOWNS[name])


@bp.app_template_filter("report_number")
def report_number(value, kind="int") -> str:
    """A figure as text: money in yuan, hours without trailing zeros, a share with %."""
    from app.core.money import format_yuan
    if value is None:
        return "—"
    if kind == "money":
        return format_yuan(value)
    if kind == "percent":
        return f"{value:g}%"
    if kind == "float":
        return f"{value:g}"
    return str(value)
