"""Writing a sheet people can compute with: the one helper every XLSX export uses.

A sheet is a list of ``Column`` (its header and the kind of its cells) and rows of
plain values. Each kind is written as what it is, with a number format:

- ``text``: always a text cell, even when it begins with ``=`` (never a formula), and
  digit strings (phone, ID number) stay text so that Excel keeps every digit;
- ``int`` (``0``), ``number`` (``0.0#``), ``percent`` (a number that is already a
  percentage, ``0.0``), ``coordinate`` (degrees, six decimals);
- ``money``: integer fen written as yuan, an exact ``Decimal`` with two decimals
  (``#,##0.00``), never text such as ``'1,032,837.46'``;
- ``bp``: integer basis points written as a percentage (``3333`` → ``33.33``, ``0.00``);
- ``date``: a real date (``yyyy-mm-dd``); text is left as it is;
- ``auto``: each value by its type (a column of mixed facts, such as "about" sheets).

The header row is bold and frozen, column widths follow the longest value (a Chinese
character counts twice) within bounds, and file names have one style:
``<what>-<node code>-<YYYYMMDD>.xlsx`` (callers pass the node code). The CSV twin of
an export writes the same columns as text.
"""
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask import send_file
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = {"int": "0", "number": "0.0#", "percent": "0.0", "money": "#,##0.00",
           "coordinate": "0.000000", "bp": "0.00", "date": "yyyy-mm-dd", "text": "@"}
MIN_WIDTH, MAX_WIDTH = 8, 50
WIDTH_SAMPLE = 500  # rows looked at to size a column


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"
    width: int | None = None  # characters; None: sized to the values


def cell_value(value, kind: str):
    """A value as written in a cell of this kind (None stays an empty cell)."""
    if value is None or value == "":
        return None
    if kind == "money":
        return Decimal(int(value)) / 100
    if kind == "bp":
        return Decimal(int(value)) / 100
    if kind in ("date", "auto") and isinstance(value, datetime):
        return value.date()
    if kind == "text" and not isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal) and kind in ("int", "number", "percent", "coordinate"):
        return int(value) if value == value.to_integral() else value
    return value


def _kind_of(value) -> str:
    if isinstance(value, date):
        return "date"
    return "int" if isinstance(value, int) else "number"


def _display_width(value) -> int:
    if value is None:
        return 0
    if isinstance(value, (date, datetime)):
        return 10
    if isinstance(value, Decimal):
        value = f"{value:,.2f}"
    text = str(value)
    longest = max(text.split("\n"), key=len) if text else ""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in longest)


def add_sheet(book: Workbook, title: str, columns, rows, freeze: str = "A2", first: bool = False):
    """A sheet of ``rows`` (lists of plain values, in the order of ``columns``) in
    ``book``; the first sheet of a new book replaces its empty default one."""
    sheet = book.active if first else book.create_sheet()
    sheet.title = re.sub(r"[\\/*?:\[\]]", " ", title)[:31]
    sheet.append([c.header for c in columns])
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    widths = [_display_width(c.header) for c in columns]
    for number, row in enumerate(rows, start=2):
        for index, column in enumerate(columns):
            value = cell_value(row[index] if index < len(row) else None, column.kind)
            if value is None:
                continue
            cell = sheet.cell(number, index + 1)
            cell.value = value
            if column.kind == "text" or isinstance(value, str):
                cell.data_type = "s"  # "=1+1" is text here, never a formula
            else:
                cell.number_format = FORMATS[_kind_of(value) if column.kind == "auto"
                                             else column.kind]
            if number <= WIDTH_SAMPLE:
                widths[index] = max(widths[index], _display_width(value))
    for index, column in enumerate(columns, start=1):
        width = column.width or min(MAX_WIDTH, max(MIN_WIDTH, widths[index - 1] + 2))
        sheet.column_dimensions[get_column_letter(index)].width = width
    if freeze:
        sheet.freeze_panes = freeze
    return sheet


def new_book() -> Workbook:
    return Workbook()


def to_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx(title: str, columns, rows, freeze: str = "A2") -> bytes:
    """A one-sheet workbook."""
    book = new_book()
    add_sheet(book, title, columns, rows, freeze=freeze, first=True)
    return to_bytes(book)


def filename(what: str, node_code: str, day: date | None = None, ext: str = "xlsx") -> str:
    """``<what>-<node code>-<YYYYMMDD>.<ext>``: the one style of every export's name
    (``what`` may be Chinese; send it with ``send_file(download_name=…)``, which writes a
    Content-Disposition that is safe for any name)."""
    day = day or date.today()
    what = re.sub(r"[\s/\\:*?\"<>|]+", "_", what).strip("_") or "export"
    node = re.sub(r"[^0-9A-Za-z-]", "", node_code or "") or "node"
    return f"{what}-{node}-{day.strftime('%Y%m%d')}.{ext}"


def csv_text(value, kind: str) -> str:
    """A value as a CSV cell: money as plain yuan (``1032837.46``), dates ISO, and text
    that a spreadsheet would run as a formula kept as text."""
    value = cell_value(value, kind)
    if value is None:
        return ""
    if isinstance(value, Decimal) and kind in ("money", "bp"):
        return f"{value:.2f}" if kind == "money" else format(value.normalize(), "f")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@"):
        return "'" + text
    return text


def csv_bytes(columns, rows) -> bytes:
    """UTF-8 with a BOM, so that Excel reads the Chinese."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([csv_text(row[i] if i < len(row) else None, c.kind)
                         for i, c in enumerate(columns)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def response(data: bytes, what: str, node_code: str, ext: str = "xlsx"):
    """The download of an export, named ``<what>-<node code>-<YYYYMMDD>.<ext>``."""
    mimetype = XLSX if ext == "xlsx" else "text/csv; charset=utf-8"
    return send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                     download_name=filename(what, node_code, ext=ext))
