"""Reading and writing the XLSX files: the template to download, and the rows of an
upload as plain text cells (after checking that the file really is a workbook)."""
import io
import re
import zipfile
from datetime import date, datetime

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet.datavalidation import DataValidation

from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.imports.columns import Spec

MAX_BYTES = 5 * 1024 * 1024
MAX_UNZIPPED = 100 * 1024 * 1024  # a small file that unpacks to more is not a real roster
MAX_ROWS = 5000
TEXT_ROWS = 1000  # rows pre-formatted as text in the template's long-digit columns
YES, NO = "是", "否"


class FileProblem(Exception):
    """The upload cannot be read as an import file; the message says why."""


def header_of(column) -> str:
    return column.header + ("*" if column.required else "")


def template(spec: Spec, example: dict) -> bytes:
    """The template: the data sheet with Chinese headers and one example row, and a
    second sheet that explains every column and its allowed values (in Chinese)."""
    with force_locale("zh_CN"):
        wb = Workbook()
        ws = wb.active
        ws.title = spec.sheet
        ws.append([header_of(c) for c in spec.columns])
        ws.append([_example_cell(c, example) for c in spec.columns])
        bold = Font(bold=True)
        for index, column in enumerate(spec.columns, start=1):
            letter = get_column_letter(index)
            ws.cell(1, index).font = bold
            ws.column_dimensions[letter].width = max(12, len(column.header) * 2 + 4)
            if column.kind == "date":
                ws.cell(2, index).number_format = "yyyy-mm-dd"
            if column.as_text:
                for row in range(2, TEXT_ROWS + 2):
                    ws.cell(row, index).number_format = "@"
            allowed = _allowed(column)
            if allowed and column.kind in ("vocab", "bool"):
                validation = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"',
                                            allow_blank=True)
                validation.add(f"{letter}2:{letter}{MAX_ROWS + 1}")
                ws.add_data_validation(validation)
        ws.freeze_panes = "A2"

        notes = wb.create_sheet("填写说明")
        notes.append([_("Column"), _("Required"), _("Allowed values"), _("Explanation")])
        for column in spec.columns:
            notes.append([header_of(column), YES if column.required else "",
                          "、".join(_allowed(column)), str(column.help or "")])
        notes.append([])
        notes.append([_("Fill in the first sheet from its second row on, one record a row; "
                        "replace or delete the example row. Columns marked * are required. "
                        "At most %(rows)s rows.", rows=MAX_ROWS)])
        for index, width in enumerate((18, 10, 40, 70), start=1):
            notes.column_dimensions[get_column_letter(index)].width = width
        fill = PatternFill("solid", fgColor="DDEBF7")
        for cell in notes[1]:
            cell.font, cell.fill = bold, fill
        for row in notes.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        out = io.BytesIO()
        wb.save(out)
        return out.getvalue()


def _allowed(column) -> list[str]:
    if column.kind == "vocab":
        return [str(label) for label in column.vocab.values()]
    if column.kind == "bool":
        return [YES, NO]
    return []


def _example_cell(column, example: dict):
    value = example.get(column.field, column.example)
    if column.kind == "vocab" and value:
        return str(column.vocab[value])
    return value


def check(data: bytes) -> None:
    """Refuse what is not a reasonable XLSX workbook (judged by content, not by name)."""
    if len(data) > MAX_BYTES:
        raise FileProblem(_("The file is too large: at most %(mb)s MB.", mb=MAX_BYTES // 2**20))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise FileProblem(_not_xlsx())
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileProblem(_not_xlsx()) from None
    if unpacked > MAX_UNZIPPED:
        raise FileProblem(_("The workbook unpacks to too much data to be an import file."))


def _not_xlsx() -> str:
    return _("This file is not an Excel workbook (.xlsx). In Excel choose "
             "\"Save as\", then \"Excel Workbook (*.xlsx)\", and upload that file.")


def read(data: bytes, spec: Spec) -> list[tuple[int, dict]]:
    """The rows of the first sheet as (row number in Excel, {field: cell}), blank rows
    left out. Raises FileProblem for a file that is not a workbook, unknown or
    missing columns, or too many rows."""
    check(data)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds on a damaged or foreign file
        raise FileProblem(_not_xlsx()) from None
    try:
        rows = wb.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None)
        fields = _fields(header or (), spec)
        found = []
        for number, row in enumerate(rows, start=2):
            cells = {name: row[i] for i, name in fields.items() if i < len(row)}
            if all(_blank(v) for v in cells.values()):
                continue
            if len(found) == MAX_ROWS:
                raise FileProblem(_("The file has more than %(rows)s rows; split it into "
                                    "several files.", rows=MAX_ROWS))
            found.append((number, cells))
    except FileProblem:
        raise
    except Exception:
        raise FileProblem(_not_xlsx()) from None
    finally:
        wb.close()
    if not found:
        raise FileProblem(_("The first sheet has no rows to import under its header row."))
    return found


def _fields(header, spec: Spec) -> dict[int, str]:
    """{column index: field} from the header row; unknown or missing columns refused."""
    known = {_plain_header(c.header): c.field for c in spec.columns}
    fields, unknown, twice = {}, [], []
    for index, title in enumerate(header):
        title = _plain_header(str(title or ""))
        if not title:
            continue
        if title not in known:
            unknown.append(title)
        elif known[title] in fields.values():
            twice.append(title)
        else:
            fields[index] = known[title]
    if unknown:
        raise FileProblem(_("Unknown columns: %(columns)s. Use the headers of the template.",
                            columns="、".join(unknown)))
    if twice:
        raise FileProblem(_("These columns appear more than once: %(columns)s.",
                            columns="、".join(twice)))
    missing = [c.header for c in spec.columns if c.required and c.field not in fields.values()]
    if missing:
        raise FileProblem(_("Required columns are missing: %(columns)s.",
                            columns="、".join(missing)))
    return fields


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def text(value, kind: str = "text") -> str:
    """A cell as the text a form would have received: numbers without a trailing .0,
    dates as YYYY-MM-DD (also an Excel day number in a date column)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, (int, float)):
        if kind == "date" and 1 <= value < 2958466:
            return from_excel(value).date().isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    return str(value).strip()


def _plain_header(title: str) -> str:
    """A header without spaces, the required mark or quotes (“三区” or "三区")."""
    return re.sub(r"[\s*＊“”\"'‘’]", "", title)
