"""The sign-in sheet (签到表): made as XLSX for a planned session, and read back when
filled (XLSX or CSV), every row checked before anything is written.

Its column headers are the file format and stay Chinese whatever the interface
language. Reading reuses the import workbook helpers (file check, cell text, header
normalisation)."""
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.datavalidation import DataValidation

from app.core import choices
from app.core.i18n import force_locale
from app.core.i18n import gettext as _
from app.imports import workbook
from app.imports.workbook import FileProblem
from app.trainings.vocab import (
    CATEGORIES,
    CATEGORY_SYNONYMS,
    ETHNICITY_SYNONYMS,
    FILE_CATEGORIES,
    FILE_MODES,
    SEX_SYNONYMS,
)

COLUMNS = ("序号", "姓名", "性别", "民族", "嘎查/村", "电话", "类别", "签名")
FIELDS = {"姓名": "name", "性别": "sex", "民族": "ethnicity", "嘎查/村": "village",
          "电话": "phone", "类别": "category", "脱贫户": "poverty_alleviated"}
REQUIRED = ("姓名", "性别", "民族", "嘎查/村", "电话", "类别")
IGNORED = ("序号", "签名", "备注")
BLANK_ROWS = 30
MAX_ROWS = 2000
PHONE = re.compile(r"1\d{10}|0\d{9,11}")


def trainer_names(training) -> str:
    names = [c.name for c in training.trainers]
    if training.outside_trainers:
        names.append(training.outside_trainers)
    return "、".join(names)


def place_of(training) -> str:
    return training.village.full_name if training.village else training.place_text


def header_lines(training) -> list[tuple[str, str]]:
    """(label, value) lines of the sheet's header, in Chinese."""
    return [("培训名称", training.title),
            ("日期", f"{training.held_on.isoformat()}  {training.hours:g} 学时"),
            ("地点", f"{place_of(training) or '—'}（{FILE_MODES.get(training.mode, '')}）"),
            ("授课人", trainer_names(training) or "—")]


def category_labels() -> list[str]:
    return list(FILE_CATEGORIES.values())


def xlsx(training, rows: int = BLANK_ROWS) -> bytes:
    """The sign-in sheet as a workbook: header lines, the column row, numbered blank
    rows, a drop-down for 类别 and 性别; set up to print on one A4 page across."""
    wb = Workbook()
    ws = wb.active
    ws.title = "签到表"
    ws.append([f"{training.title} 签到表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(COLUMNS))
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    for label, value in header_lines(training):
        ws.append([label, value])
        ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row,
                       end_column=len(COLUMNS))
    header_row = ws.max_row + 1
    ws.append(list(COLUMNS))
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for number in range(1, rows + 1):
        ws.append([number] + [""] * (len(COLUMNS) - 1))
    for row in ws.iter_rows(min_row=header_row, max_row=header_row + rows):
        for cell in row:
            cell.border = border
            if cell.row == header_row:
                cell.font = Font(bold=True)
        ws.row_dimensions[row[0].row].height = 24
    for column in ("F",):  # phone: text, so that Excel keeps all eleven digits
        for r in range(header_row + 1, header_row + rows + 1):
            ws[f"{column}{r}"].number_format = "@"
    last = header_row + rows
    for letter, allowed in (("G", category_labels()), ("C", ["男", "女"])):
        validation = DataValidation(type="list", formula1='"' + ",".join(allowed) + '"',
                                    allow_blank=True)
        validation.add(f"{letter}{header_row + 1}:{letter}{last}")
        ws.add_data_validation(validation)
    for letter, width in zip("ABCDEFGH", (6, 12, 6, 8, 18, 15, 13, 16), strict=False):
        ws.column_dimensions[letter].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# Reading a filled sheet


@dataclass
class Row:
    number: int  # the row in the file
    cells: dict  # {header: text}
    data: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)  # [message]
    unchanged: bool = False  # already on the roster: left as it is


@dataclass
class Result:
    rows: list
    problems: list = field(default_factory=list)  # whole-file problems (head counts …)
    sheet: str = ""  # the sheet of the workbook the roster was found on

    @property
    def invalid(self) -> list:
        return [r for r in self.rows if r.errors]

    @property
    def unchanged(self) -> list:
        return [r for r in self.rows if r.unchanged and not r.errors]

    @property
    def new(self) -> list:
        """The rows that would be added: valid and not on the roster yet."""
        return [r for r in self.rows if not r.errors and not r.unchanged]

    @property
    def ok(self) -> bool:
        """Every row valid: the new ones can be added as they are."""
        return bool(self.rows) and not self.invalid and not self.problems

    @property
    def importable(self) -> bool:
        """Some rows can be added (the invalid ones left out, if the user chooses)."""
        return bool(self.new) and not self.problems


def _tables(data: bytes) -> list[tuple[str, list[list]]]:
    """(sheet name, rows) of every sheet (XLSX), or of the rows (CSV, UTF-8 or GB18030)."""
    if data[:2] == b"PK":
        workbook.check(data)
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                return [(ws.title, [list(r) for _i, r in zip(range(MAX_ROWS + 20),
                                                             ws.iter_rows(values_only=True),
                                                             strict=False)])
                        for ws in wb.worksheets]
            finally:
                wb.close()
        except FileProblem:
            raise
        except Exception:
            raise FileProblem(_("This file is neither an Excel workbook (.xlsx) nor a CSV file."))\
                from None
    return [("", _csv(data))]


def _csv(data: bytes) -> list[list]:
    if len(data) > workbook.MAX_BYTES:
        raise FileProblem(_("The file is too large: at most %(mb)s MB.",
                            mb=workbook.MAX_BYTES // 2**20))
    if b"\x00" in data[:4096]:
        raise FileProblem(_("This file is neither an Excel workbook (.xlsx) nor a CSV file."))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileProblem(_("This file is neither an Excel workbook (.xlsx) nor a CSV file."))
    try:
        return list(csv.reader(io.StringIO(text)))[:MAX_ROWS + 20]
    except csv.Error:
        raise FileProblem(_("This file is neither an Excel workbook (.xlsx) nor a CSV file.")) \
            from None


def _column_row(table) -> int | None:
    """The index of the column row: the first of the first ten rows with a 姓名 cell."""
    for index, row in enumerate(table[:10]):
        if "姓名" in [workbook._plain_header(_clean(workbook.text(c))) for c in row]:
            return index
    return None


def _header(table) -> tuple[int, dict[int, str]]:
    """(index of the column row, {column index: header})."""
    index = _column_row(table)
    if index is not None:
        titles = [workbook._plain_header(_clean(workbook.text(c))) for c in table[index]]
        unknown = [t for t in titles if t and t not in FIELDS and t not in IGNORED]
        if unknown:
            raise FileProblem(_("Unknown columns: %(columns)s. Use the columns of the "
                                "sign-in sheet.", columns="、".join(unknown)))
        twice = sorted({t for t in titles if t and titles.count(t) > 1})
        if twice:
            raise FileProblem(_("These columns appear more than once: %(columns)s.",
                                columns="、".join(twice)))
        missing = [h for h in REQUIRED if h not in titles]
        if missing:
            raise FileProblem(_("Required columns are missing: %(columns)s.",
                                columns="、".join(missing)))
        return index, {i: t for i, t in enumerate(titles) if t in FIELDS}
    raise FileProblem(_("No column row with 姓名 found in the first ten rows: use the "
                        "sign-in sheet printed from this session."))


def _clean(text: str) -> str:
    """A cell as compared and kept: NFKC (full-width digits, letters and spaces become
    ASCII), runs of spaces made one, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def find_table(data: bytes) -> tuple[str, list[list]]:
    """(sheet name, rows) of the sheet that holds the roster: the first whose first ten
    rows have the 姓名 column row, whichever sheet of the workbook it is."""
    tables = _tables(data)
    for name, table in tables:
        if _column_row(table) is not None:
            return name, table
    if len(tables) > 1:
        raise FileProblem(_("None of the sheets (%(sheets)s) has a column row with 姓名 in its "
                            "first ten rows: use the sign-in sheet printed from this session.",
                            sheets="、".join(name for name, _rows in tables)))
    return tables[0] if tables else ("", [])


def read(data: bytes) -> list[Row]:
    """The filled rows of a sheet (blank and number-only rows left out)."""
    return read_sheet(data)[1]


def read_sheet(data: bytes) -> tuple[str, list[Row]]:
    """(the sheet's name, its filled rows)."""
    name, table = find_table(data)
    start, columns = _header(table)
    rows = []
    for offset, raw in enumerate(table[start + 1:], start=start + 2):
        cells = {title: _clean(workbook.text(raw[i])) if i < len(raw) else ""
                 for i, title in columns.items()}
        if not any(cells.values()):
            continue
        if len(rows) == MAX_ROWS:
            raise FileProblem(_("The file has more than %(rows)s rows; split it into "
                                "several files.", rows=MAX_ROWS))
        rows.append(Row(number=offset, cells=cells))
    if not rows:
        raise FileProblem(_("The sheet has no filled rows under its column row."))
    return name, rows


def _vocabulary(vocab: dict) -> dict:
    """{code, or label in Chinese or English, folded: code}."""
    known = {code.casefold(): code for code in vocab}
    if vocab is CATEGORIES:
        known.update({label: code for code, label in FILE_CATEGORIES.items()})
        known.update(CATEGORY_SYNONYMS)
    for locale in ("zh_CN", "en"):
        with force_locale(locale):
            known.update({re.sub(r"\s", "", str(label)).casefold(): code
                          for code, label in vocab.items()})
    return known


SEXES = SEX_SYNONYMS
YES = {"是", "y", "yes", "1", "√", "✓", "有"}
NO = {"否", "n", "no", "0", "无", ""}


def check_row(row: Row, villages: dict) -> None:
    """Fill ``row.data`` from its cells and add an error for every bad cell."""
    cells, data = row.cells, row.data
    name = cells.get("姓名", "").strip()
    data["name"] = name if re.search(r"[A-Za-z]", name) else re.sub(r"\s", "", name)
    if not data["name"]:
        row.errors.append(_("姓名: the name is missing."))
    elif len(data["name"]) > 100:
        row.errors.append(_("姓名: at most 100 characters."))
    sex = re.sub(r"\s", "", cells.get("性别", "")).casefold()
    sexes = {**SEXES, **_vocabulary(choices.SEXES)}
    if sex and sex not in sexes:
        row.errors.append(_("性别: write 男 or 女."))
    data["sex"] = sexes.get(sex, "")
    ethnicity = re.sub(r"\s", "", cells.get("民族", ""))
    data["ethnicity"] = ETHNICITY_SYNONYMS.get(ethnicity, ethnicity)[:20]
    village = cells.get("嘎查/村", "").strip()
    data["village_id"] = villages.get(re.sub(r"\s", "", village))
    data["village_text"] = "" if data["village_id"] else village[:100]
    phone = re.sub(r"[\s-]", "", cells.get("电话", ""))
    if phone and not PHONE.fullmatch(phone):
        row.errors.append(_("电话: “%(value)s” is not an 11-digit mobile number or a "
                            "landline with its area code.", value=cells.get("电话", "")))
    data["phone"] = phone
    category = re.sub(r"\s", "", cells.get("类别", "")).casefold()
    known = _vocabulary(CATEGORIES)
    if not category:
        row.errors.append(_("类别: the category is missing."))
    elif category not in known:
        row.errors.append(_("类别: “%(value)s” is not one of: %(allowed)s.",
                            value=cells.get("类别", ""), allowed="、".join(category_labels())))
    data["category"] = known.get(category, "other")
    poor = re.sub(r"\s", "", cells.get("脱贫户", "")).casefold()
    if poor not in YES and poor not in NO:
        row.errors.append(_("脱贫户: write 是 or 否."))
    data["poverty_alleviated"] = poor in YES


def duplicates(rows: list[Row]) -> None:
    """Mark rows that repeat an earlier row (same name, and same phone or village)."""
    seen = {}
    for row in rows:
        if not row.data.get("name"):
            continue
        key = (row.data["name"], row.data["phone"] or
               row.data.get("village_id") or row.data.get("village_text") or "")
        if key in seen:
            row.errors.append(_("This repeats row %(row)s of the file.", row=seen[key]))
        else:
            seen[key] = row.number
