"""Assessment rules and writes: which scheme scores a year, who is assessed, a sheet's
station part (entered indicators, self-score, proposed grade, texts), submission (a
frozen snapshot), the commissioner's comment, the league's review, proposed exits.

Every write goes through app/core/records.py, so the field declaration of
app/models/assessment.py (station text, league grade) is enforced on every path."""
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, load_only

from app.assessments import figures, scoring
from app.assessments.vocab import GRADES, MONEY_FIGURES
from app.core import cache, records
from app.core.extensions import db
from app.core.i18n import lazy_gettext as _l
from app.core.security import node_scoped, reading_scope, scoped
from app.models import AssessmentScheme, AssessmentSheet, Commissioner, Station, utcnow
from app.models.shipped import REGION_CODE, shipped_id

MAX_ENTERED = Decimal("1000000")

# The commissioner scheme shipped with the program, after the published local schemes
# summarised in the reference note (service days with a threshold and a deduction per
# day short, points per visit and per person trained with caps, fixed points for an
# agreement, satisfaction, a summary, bonus items). Out of 100, plus up to 5 bonus.
SHIPPED_COMMISSIONER_SCHEME = {
    "name": "科技特派员年度考核评分表（示范）",
    "first_year": 2021,
    "indicators": {"items": [
        {"key": "service_days", "name": "服务天数", "unit": "天", "source": "computed",
         "figure": "service_days", "rule": "threshold", "threshold": "50",
         "deduction": "0.6", "max": "30"},
        {"key": "visits", "name": "服务次数", "unit": "次", "source": "computed",
         "figure": "visits", "rule": "per_unit", "points": "0.5", "max": "15"},
        {"key": "people_trained", "name": "培训人次", "unit": "人次", "source": "computed",
         "figure": "people_trained", "rule": "per_unit", "points": "0.1", "max": "10"},
        {"key": "technologies", "name": "推广新技术、新品种", "unit": "项", "source": "computed",
         "figure": "technologies_varieties", "rule": "per_unit", "points": "1", "max": "10"},
        {"key": "priority_targets", "name": "服务脱贫户、监测户", "unit": "户",
         "source": "computed", "figure": "priority_targets", "rule": "per_unit",
         "points": "1", "max": "5"},
        {"key": "agreements", "name": "与服务对象结成利益共同体", "unit": "个",
         "source": "computed", "figure": "agreements", "rule": "fixed", "threshold": "1",
         "points": "10", "max": "10"},
        {"key": "satisfaction", "name": "服务对象满意度", "unit": "%", "source": "entered",
         "rule": "threshold", "threshold": "90", "deduction": "0.5", "max": "10"},
        {"key": "summary", "name": "年度工作总结与典型案例", "unit": "分", "source": "entered",
         "rule": "direct", "max": "10"},
        {"key": "press", "name": "媒体宣传报道（加分项）", "unit": "篇", "source": "entered",
         "rule": "per_unit", "points": "1", "max": "5", "bonus": True},
    ]},
    "bands": {"excellent": 9000, "good": 8000, "pass": 6000},
    "notes": "据公开的地方考核办法整理（服务天数门槛与按天扣分、按次计分设上限、利益共同体、"
             "满意度、加分项）；等次：优秀≥90、良好≥80、合格≥60、不合格<60。",
}


# The station scheme shipped with the program, after the Yiling 2024 task list in the
# reference note (projects, varieties, demonstration bases 1–2 at 5 each, market
# entities, at least 400 person-times trained, other assigned work at 5 per activity,
# news items, bonus items), with what the records answer computed. Out of 100, plus up
# to 15 bonus. The post-subsidy floor is the policy's 15万元 (in fen).
SUBSIDY_FLOOR_FEN = 15_000_000
SHIPPED_STATION_SCHEME = {
    "name": "科技特派员工作站年度绩效评估表（示范）",
    "first_year": 2021,
    "indicators": {"subsidy_floor_fen": SUBSIDY_FLOOR_FEN, "items": [
        {"key": "visits", "name": "开展科技服务", "unit": "次", "source": "computed",
         "figure": "visits", "rule": "per_unit", "points": "0.1", "max": "15"},
        {"key": "commissioners", "name": "在岗科技特派员", "unit": "人", "source": "computed",
         "figure": "commissioners", "rule": "threshold", "threshold": "10", "deduction": "1",
         "max": "10"},
        {"key": "people_trained", "name": "培训或宣传（不少于400人次）", "unit": "人次",
         "source": "computed", "figure": "people_trained", "rule": "threshold",
         "threshold": "400", "deduction": "0.025", "max": "10"},
        {"key": "bases", "name": "建设示范基地、试验站", "unit": "个", "source": "computed",
         "figure": "industry_bases", "rule": "per_unit", "points": "5", "max": "10"},
        {"key": "service_points", "name": "科技服务点", "unit": "个", "source": "computed",
         "figure": "service_points", "rule": "per_unit", "points": "2", "max": "10"},
        {"key": "agreements", "name": "帮扶市场主体、结成利益共同体", "unit": "个",
         "source": "computed", "figure": "agreements", "rule": "per_unit", "points": "5",
         "max": "10"},
        {"key": "priority_targets", "name": "服务脱贫户、监测户", "unit": "户",
         "source": "computed", "figure": "priority_targets", "rule": "per_unit",
         "points": "0.5", "max": "10"},
        {"key": "projects", "name": "按计划完成科技项目", "unit": "分", "source": "entered",
         "rule": "direct", "max": "10"},
        {"key": "varieties", "name": "试验推广新品种", "unit": "个", "source": "entered",
         "rule": "per_unit", "points": "1", "max": "5"},
        {"key": "activities", "name": "科技活动周、年度总结、典型宣传等工作", "unit": "项",
         "source": "entered", "rule": "per_unit", "points": "5", "max": "10"},
        {"key": "results", "name": "孵化企业、专利与成果登记、承担上级项目（加分项）",
         "unit": "项", "source": "entered", "rule": "per_unit", "points": "2", "max": "10",
         "bonus": True},
        {"key": "news", "name": "新闻报道、视频（加分项）", "unit": "条", "source": "entered",
         "rule": "per_unit", "points": "1", "max": "5", "bonus": True},
    ]},
    "bands": {"excellent": 9000, "good": 8000, "pass": 6000},
    "notes": "据公开的工作站年度任务清单整理；评估优秀的基层工作站按年度给予不低于15万元后补助。",
}
SHIPPED_SCHEMES = {"commissioner": SHIPPED_COMMISSIONER_SCHEME, "station": SHIPPED_STATION_SCHEME}


def load_shipped_schemes() -> int:
    """Add the shipped commissioner and station schemes this node does not have yet."""
    added = 0
    for subject, scheme in SHIPPED_SCHEMES.items():
        scheme_id = shipped_id("assessment_scheme", subject)
        if db.session.get(AssessmentScheme, scheme_id) is None:
            db.session.add(AssessmentScheme(id=scheme_id, subject=subject, edition=1,
                                            owner_node=REGION_CODE, origin_node=REGION_CODE,
                                            **scheme))
            added += 1
    db.session.flush()
    return added


def scheme_for(subject: str, year: int, user=None) -> AssessmentScheme | None:
    """The scheme that scores ``subject``'s sheets of ``year`` on this node: of the live
    schemes it sees, the one set nearest to it (a league's before the region's), then
    the one in force latest (``first_year`` ≤ year)."""
    candidates = db.session.scalars(scoped(AssessmentScheme, user).where(
        AssessmentScheme.subject == subject, AssessmentScheme.first_year <= year)).all()
    if not candidates:
        return None
    return max(candidates, key=lambda s: (len(s.owner_node), s.first_year, s.updated_at))


# ---------------------------------------------------------------- who is assessed

def active_commissioners(year: int, user=None) -> list[Commissioner]:
    """The commissioners the user reads who were active in the year: live, started
    (dispatched, else recognised) by 31 December or undated, and not exited before
    1 January; and any commissioner who already has a sheet for the year."""
    first, last = figures.year_bounds(year)
    started = func.coalesce(Commissioner.dispatched_on, Commissioner.recognised_on)
    has_sheet = select(AssessmentSheet.commissioner_id).where(
        AssessmentSheet.year == year, AssessmentSheet.deleted_at.is_(None),
        AssessmentSheet.commissioner_id.is_not(None))
    stmt = scoped(Commissioner, user).where(or_(
        Commissioner.id.in_(has_sheet),
        (or_(started.is_(None), started <= last)
         & or_(Commissioner.exited_on.is_(None), Commissioner.exited_on >= first)
         & or_(Commissioner.status != "exited", Commissioner.exited_on.is_not(None)))))
    # a year page shows their names only (a league's hundreds: the rest is not loaded)
    return db.session.scalars(stmt.options(load_only(Commissioner.name, Commissioner.owner_node))
                              .order_by(Commissioner.name, Commissioner.id)).all()


# ---------------------------------------------------------------- scoring a sheet

@dataclass
class Evaluation:
    """A sheet (or a commissioner without one yet) scored now, or as submitted."""
    who: object  # the commissioner or the station assessed
    sheet: AssessmentSheet | None
    year: int
    scheme: dict  # {"id", "edition", "name", "indicators", "bands"}
    computed: dict  # every figure the records answer
    result: dict  # scoring.score(): figures, scores, base, bonus, total
    grade: str
    frozen: bool = False  # read from the snapshot
    live: dict = field(default_factory=dict)  # live figures beside a snapshot

    @property
    def status(self) -> str:
        return self.sheet.status if self.sheet else "none"

    @property
    def changed(self) -> dict:
        """{indicator key: (as submitted, now)} for computed figures that moved since."""
        if not self.frozen or not self.live:
            return {}
        found = {}
        for indicator in self.scheme["indicators"]:
            if indicator.get("source") != "computed":
                continue
            then = self.result["figures"].get(indicator["key"])
            now = scoring.plain(scoring.dec(self.live.get(indicator.get("figure"))))
            if then != now:
                found[indicator["key"]] = (then, now)
        return found

    def money(self, key: str) -> bool:
        return key in MONEY_FIGURES

    @property
    def commissioner(self):
        return self.who


def scheme_copy(scheme: AssessmentScheme | None) -> dict:
    if scheme is None:
        return {"id": None, "edition": 0, "name": "", "indicators": [], "bands": [],
                "subsidy_floor_fen": SUBSIDY_FLOOR_FEN}
    return {"id": scheme.id, "edition": scheme.edition, "name": scheme.name,
            "indicators": scheme.indicator_list, "bands": scheme.band_list,
            "subsidy_floor_fen": (scheme.indicators or {}).get("subsidy_floor_fen",
                                                               SUBSIDY_FLOOR_FEN)}


def evaluate_many(year: int, people: list, sheets: dict, node: str,
                  scheme: AssessmentScheme | None, live: bool = False,
                  subject: str = "commissioner") -> list[Evaluation]:
    """Evaluations of many commissioners or stations (``sheets``: {their id: sheet}): the
    snapshot of a submitted sheet (with today's figures beside it when ``live``), the
    records scored by the scheme otherwise."""
    need_live = [p for p in people if live or not (sheets.get(p.id) and sheets[p.id].submission)]
    ids = tuple(p.id for p in need_live)
    if subject == "station":
        def count():
            return figures.station_figures(year, need_live)
    else:
        def count():
            return figures.commissioner_figures(year, list(ids), node)
    # a year page's figures are remembered until the data changes (app/core/cache.py);
    # a sheet's own (``live``, what a submission freezes) are always counted afresh
    computed = count() if live else {who: dict(found) for who, found in cache.remembered(
        ("assessment-figures", subject, year, node, ids), count).items()}
    copy = scheme_copy(scheme)

    def frozen(who) -> bool:
        sheet = sheets.get(who.id)
        return sheet is not None and bool(sheet.submission and sheet.snapshot)

    def scored() -> dict:
        """{id: (result, grade)} of those scored now (the scheme, the figures, what the
        sheet entered: all data, so a year page's are remembered with its figures)."""
        found = {}
        for who in people:
            if frozen(who):
                continue
            sheet = sheets.get(who.id)
            result = scoring.score(copy["indicators"], computed[who.id],
                                   (sheet.entered or {}) if sheet else {})
            found[who.id] = (result, scoring.grade(copy["bands"], Decimal(result["total"])))
        return found
    scores = scored() if live else cache.remembered(
        ("assessment-scores", subject, year, node, tuple(p.id for p in people), copy["id"],
         copy["edition"]), scored)
    found = []
    for who in people:
        sheet = sheets.get(who.id)
        if frozen(who):
            snap = sheet.snapshot
            found.append(Evaluation(who, sheet, year, snap["scheme"], snap["computed"],
                                    snap["result"], snap["grade"], frozen=True,
                                    live=computed.get(who.id, {})))
            continue
        result, grade = scores[who.id]
        found.append(Evaluation(who, sheet, year, copy, computed[who.id], result, grade))
    return found


def sheets_of(year: int, ids: list[str], user=None) -> dict:
    """{commissioner id: their sheet of the year} for ``ids``: the year's commissioner
    sheets the user reads, picked here (a league's hundreds of ids make a slow IN list)."""
    if not ids:
        return {}
    wanted = set(ids)
    return {s.commissioner_id: s for s in db.session.scalars(scoped(AssessmentSheet, user).where(
        AssessmentSheet.year == year, AssessmentSheet.commissioner_id.is_not(None)))
        if s.commissioner_id in wanted}


@dataclass(frozen=True)
class Assessed:
    """A commissioner as a year's table shows them."""
    id: str
    name: str


def year_rows(year: int, user=None, window: slice | None = None
              ) -> tuple[AssessmentScheme | None, list[Evaluation], int]:
    """One evaluation per commissioner active in the year that the user reads (those of
    ``window`` only, a page of them in name order), and how many there are in all."""
    user = user or current_user
    scheme = scheme_for("commissioner", year, user)
    # who they are, remembered until the data changes: a league's hundreds take a while
    people = cache.remembered(("assessment-people", year, *reading_scope(user)), lambda: [
        Assessed(c.id, c.name) for c in active_commissioners(year, user)])
    shown = people[window] if window is not None else people
    sheets = sheets_of(year, [c.id for c in shown], user)
    return scheme, evaluate_many(year, shown, sheets, user.node_code, scheme), len(people)


def evaluate(sheet: AssessmentSheet, user=None) -> Evaluation:
    """One sheet, with today's figures beside its snapshot once submitted."""
    user = user or current_user
    scheme = scheme_for(sheet.subject, sheet.year, user)
    who = sheet.commissioner if sheet.subject == "commissioner" else sheet.station
    (found,) = evaluate_many(sheet.year, [who], {who.id: sheet}, sheet.owner_node, scheme,
                             live=True, subject=sheet.subject)
    return found


def active_stations(year: int, user=None) -> list[Station]:
    """The live stations the user reads that existed in the year (established by 31
    December, or undated)."""
    last = figures.year_bounds(year)[1]
    return db.session.scalars(scoped(Station, user).where(
        or_(Station.established_on.is_(None), Station.established_on <= last))
        .order_by(Station.name, Station.id)).all()


def station_rows(year: int, user=None) -> tuple[AssessmentScheme | None, list[Evaluation]]:
    """One evaluation per station of the user's subtree for the year."""
    user = user or current_user
    scheme = scheme_for("station", year, user)
    stations = active_stations(year, user)
    ids = [s.id for s in stations]
    sheets = {s.station_id: s for s in db.session.scalars(scoped(AssessmentSheet, user).where(
        AssessmentSheet.year == year, AssessmentSheet.station_id.in_(ids)))} if ids else {}
    return scheme, evaluate_many(year, stations, sheets, user.node_code, scheme,
                                 subject="station")


SUBSIDY_WORDS = "对评估优秀的基层工作站按年度给予不低于 15 万元后补助支持"


def subsidy_errors(sheet: AssessmentSheet, text: str) -> tuple[dict, int | None]:
    """({field: message}, fen): only an excellent grassroots station's graded sheet gets
    a post-subsidy, and never less than the floor of the scheme it was scored with."""
    from app.core.money import MoneyError, format_yuan, parse_yuan
    if sheet.subject != "station" or sheet.status != "graded" or sheet.final_grade != "excellent" \
            or sheet.station is None or sheet.station.kind != "grassroots":
        return {"subsidy": _l("A post-subsidy is recorded only for a grassroots workstation "
                              "graded Excellent.")}, None
    try:
        fen = parse_yuan(text)
    except MoneyError as problem:
        return {"subsidy": str(problem)}, None
    floor = int((sheet.snapshot.get("scheme") or {}).get("subsidy_floor_fen") or SUBSIDY_FLOOR_FEN)
    if fen < floor:
        return {"subsidy": _l("The post-subsidy cannot be less than %(floor)s yuan: the action "
                              "plan says “%(words)s”.", floor=format_yuan(floor),
                              words=SUBSIDY_WORDS)}, None
    return {}, fen


def record_subsidy(sheet: AssessmentSheet, fen: int) -> AssessmentSheet:
    return records.update(sheet, {"subsidy_fen": fen, "subsidy_recorded_at": utcnow()})


# ---------------------------------------------------------------- the station's part

def open_sheet(who: Commissioner | Station, year: int) -> AssessmentSheet:
    """The year's sheet of a commissioner, or evaluation of a station, made (a draft,
    owned by their node, with the scheme that scores it now) if there is none yet."""
    subject = "station" if isinstance(who, Station) else "commissioner"
    column = AssessmentSheet.station_id if subject == "station" else AssessmentSheet.commissioner_id
    sheet = db.session.scalar(node_scoped(AssessmentSheet).where(
        column == who.id, AssessmentSheet.year == year))
    if sheet is not None:
        return sheet
    scheme = scheme_for(subject, year)
    return records.create(AssessmentSheet(), {
        "subject": subject, "year": year, column.key: who.id,
        "scheme_id": scheme.id if scheme else None,
        "scheme_edition": scheme.edition if scheme else 0}, owner_node=who.owner_node)


# A comma in a number only groups thousands ("1,234", "12,345.5"); full-width forms are
# taken as their ASCII ones (NFKC: "１２，３４５．５", "９５％").
THOUSANDS = re.compile(r"\d{1,3}(,\d{3})+(\.\d*)?")


def parse_entered(indicator: dict, text: str):
    """(decimal text or None, message or None) for what was typed for an indicator. A
    comma is a thousands separator or nothing: "1,5" is refused, never read as 1.5
    (nor as 15)."""
    text = unicodedata.normalize("NFKC", text or "").strip().replace("%", "").strip()
    if not text:
        return None, None
    if "," in text:
        if not THOUSANDS.fullmatch(text):
            return None, _l("A comma may only separate thousands (1,234): write a decimal "
                            "with a point, such as 12.5.")
        text = text.replace(",", "")
    number = scoring.dec(text)
    if number is None or not text.replace(".", "", 1).isdigit():
        return None, _l("Enter a number of 0 or more, such as 12 or 12.5.")
    if number.as_tuple().exponent < -2:
        return None, _l("Use at most two decimal places.")
    if indicator.get("rule") == "direct" and number > (scoring.dec(indicator.get("max")) or 0):
        return None, _l("The score cannot be more than the maximum of %(max)s.",
                        max=indicator.get("max"))
    if indicator.get("unit") == "%" and number > 100:
        return None, _l("A percentage is at most 100.")
    if number > MAX_ENTERED:
        return None, _l("The number is too large.")
    return scoring.plain(number), None


def station_part_errors(sheet: AssessmentSheet, scheme: dict, form: dict) -> tuple[dict, dict]:
    """({field: message}, data to save) for the station's part of a sheet."""
    errors, entered = {}, {}
    for indicator in scheme["indicators"]:
        if indicator.get("source") != "entered":
            continue
        value, problem = parse_entered(indicator, form.get(f"entered-{indicator['key']}", ""))
        if problem:
            errors[f"entered-{indicator['key']}"] = problem
        elif value is not None:
            entered[indicator["key"]] = value
    self_text = (form.get("self_score") or "").strip()
    self_score = None
    if self_text:
        number = scoring.dec(self_text)
        if number is None or number < 0 or number > 1000 or number.as_tuple().exponent < -2:
            errors["self_score"] = _l("Enter a score of 0 or more with at most two decimals.")
        else:
            self_score = scoring.centi(number)
    grade = form.get("proposed_grade") or ""
    if grade and grade not in GRADES:
        errors["proposed_grade"] = _l("Choose a grade from the list.")
    texts = {}
    for key in ("summary", "typical_case"):
        texts[key] = (form.get(key) or "").strip()
        if len(texts[key]) > 20000:
            errors[key] = _l("This text is too long.")
    data = {"entered": entered, "self_score_c": self_score, "proposed_grade": grade, **texts}
    return errors, data


def not_editable(sheet: AssessmentSheet) -> str | None:
    if sheet.editable:
        return None
    return str(_l("This sheet has been submitted; it can be changed again only if the league "
                  "returns it."))


def save_station_part(sheet: AssessmentSheet, data: dict) -> AssessmentSheet:
    return records.update(sheet, data)


def submit_errors(sheet: AssessmentSheet, evaluation: Evaluation) -> dict:
    errors = {}
    if not evaluation.scheme.get("indicators"):
        errors["scheme"] = _l("No assessment scheme applies to this year; the league or region "
                              "sets one.")
    if not sheet.proposed_grade:
        errors["proposed_grade"] = _l("Propose a grade before submitting.")
    if sheet.self_score_c is None:
        errors["self_score"] = _l("Enter the self-assessed score before submitting.")
    return errors


def submit(sheet: AssessmentSheet, evaluation: Evaluation) -> AssessmentSheet:
    """Freeze the figures, scores and scheme as submitted; the league reviews them."""
    snapshot = {"scheme": evaluation.scheme, "computed": evaluation.computed,
                "result": evaluation.result, "grade": evaluation.grade,
                "entered": dict(sheet.entered or {}),
                "self_score": scoring.plain(scoring.from_centi(sheet.self_score_c)),
                "proposed_grade": sheet.proposed_grade,
                "submission": (sheet.submission or 0) + 1}
    return records.update(sheet, {"snapshot": snapshot, "submission": snapshot["submission"],
                                  "submitted_at": utcnow(),
                                  "scheme_id": evaluation.scheme.get("id"),
                                  "scheme_edition": evaluation.scheme.get("edition") or 0})


def comment(sheet: AssessmentSheet, text: str) -> AssessmentSheet:
    return records.update(sheet, {"commissioner_comment": text.strip()})


# ---------------------------------------------------------------- the league's review

def review_errors(sheet: AssessmentSheet, form: dict) -> tuple[dict, dict]:
    """({field: message}, data) for a reviewer's decision on a submitted sheet."""
    errors = {}
    action = form.get("action")
    text = (form.get("review_comment") or "").strip()
    if sheet.status != "submitted":
        errors["action"] = _l("Only a submitted sheet awaiting review can be graded or returned.")
    data = {"review_comment": text, "reviewed_submission": sheet.submission,
            "reviewed_at": utcnow()}
    if action == "grade":
        grade = form.get("final_grade") or ""
        if grade not in GRADES:
            errors["final_grade"] = _l("Choose the final grade.")
        score_text = (form.get("reviewer_score") or "").strip()
        score = None
        if score_text:
            number = scoring.dec(score_text)
            if number is None or number < 0 or number > 1000 or number.as_tuple().exponent < -2:
                errors["reviewer_score"] = _l("Enter a score of 0 or more with at most two decimals.")
            else:
                score = scoring.centi(number)
        data.update(review_state="graded", final_grade=grade, reviewer_score_c=score)
    elif action == "return":
        if not text:
            errors["review_comment"] = _l("Say why the sheet is returned.")
        data.update(review_state="returned", final_grade="", reviewer_score_c=None)
    else:
        errors["action"] = _l("Choose whether to grade or to return the sheet.")
    if len(text) > 5000:
        errors["review_comment"] = _l("This text is too long.")
    return errors, data


def review(sheet: AssessmentSheet, data: dict) -> AssessmentSheet:
    return records.update(sheet, data)


def to_review(year: int | None, user=None):
    """The sheets of the user's subtree that were submitted (every state after it)."""
    stmt = scoped(AssessmentSheet, user).where(AssessmentSheet.submission > 0)
    if year:
        stmt = stmt.where(AssessmentSheet.year == year)
    return db.session.scalars(stmt.order_by(AssessmentSheet.year.desc(),
                                            AssessmentSheet.submitted_at)).all()


# A sheet awaits review (``AssessmentSheet.status`` "submitted") when it was submitted
# and the league's last review, if any, was of an earlier submission.
AWAITING_REVIEW = and_(AssessmentSheet.submission > 0, or_(
    AssessmentSheet.reviewed_submission != AssessmentSheet.submission,
    AssessmentSheet.review_state.not_in(("returned", "graded"))))


def awaiting_review(user=None) -> list[AssessmentSheet]:
    """The sheets of the user's subtree that wait for a grade, in one query (whom each
    grades loaded with it), in the review list's order."""
    return db.session.scalars(
        scoped(AssessmentSheet, user).where(AWAITING_REVIEW)
        .options(joinedload(AssessmentSheet.commissioner), joinedload(AssessmentSheet.station))
        .order_by(AssessmentSheet.year.desc(), AssessmentSheet.submitted_at,
                  AssessmentSheet.id)).all()


def own_sheets(user=None) -> list[AssessmentSheet]:
    """The sheets the user reads (a commissioner: their own), newest year first."""
    return db.session.scalars(scoped(AssessmentSheet, user)
                              .order_by(AssessmentSheet.year.desc())).all()


def graded(commissioner_id: str | None = None, station_id: str | None = None,
           user=None) -> list[AssessmentSheet]:
    """The graded sheets of one commissioner or one station that the user reads, newest
    year first (for their pages: a grade comes from the league, a subsidy from the region)."""
    stmt = scoped(AssessmentSheet, user).where(
        AssessmentSheet.review_state == "graded",
        AssessmentSheet.reviewed_submission == AssessmentSheet.submission)
    if commissioner_id:
        stmt = stmt.where(AssessmentSheet.subject == "commissioner",
                          AssessmentSheet.commissioner_id == commissioner_id)
    else:
        stmt = stmt.where(AssessmentSheet.subject == "station",
                          AssessmentSheet.station_id == station_id)
    return db.session.scalars(stmt.order_by(AssessmentSheet.year.desc())).all()


def proposed_exits(user=None) -> list[AssessmentSheet]:
    """Sheets graded 不合格 whose commissioner has not exited: a person decides."""
    return db.session.scalars(
        scoped(AssessmentSheet, user).join(Commissioner,
                                           Commissioner.id == AssessmentSheet.commissioner_id)
        .where(AssessmentSheet.final_grade == "fail", AssessmentSheet.review_state == "graded",
               AssessmentSheet.reviewed_submission == AssessmentSheet.submission,
               Commissioner.deleted_at.is_(None), Commissioner.status != "exited")
        .order_by(AssessmentSheet.year.desc(), Commissioner.name)).all()


def this_year() -> int:
    return date.today().year


# ---------------------------------------------------------------- schemes (league, region)

SCHEME_NUMBERS = ("points", "threshold", "deduction", "max")
BAND_GRADES = ("excellent", "good", "pass")


def _number(text: str):
    """(decimal text, message): a number 0–1000 with at most three decimals."""
    text = (text or "").strip()
    number = scoring.dec(text) if text.replace(".", "", 1).isdigit() else None
    if number is None or number > 1000:
        return None, _l("Enter a number from 0 to 1000.")
    if number.as_tuple().exponent < -3:
        return None, _l("Use at most three decimal places.")
    return format(number.normalize(), "f") if number == number.to_integral() else \
        format(number, "f"), None


def scheme_form_errors(form, rows: int, scheme: AssessmentScheme | None = None) -> tuple[dict, dict]:
    """({input name: message}, data) from the scheme form: its name, first year, grade
    bands and indicator rows ``ind-<i>-<field>`` (a row without a name is dropped)."""
    from app.assessments.vocab import FIGURES_BY_SUBJECT, RULES, SOURCES, SUBJECTS
    errors, indicators, used = {}, [], set()
    name = (form.get("name") or "").strip()
    if not name or len(name) > 100:
        errors["name"] = _l("Enter a name of at most 100 characters.")
    subject = form.get("subject") or "commissioner"
    if subject not in SUBJECTS:
        errors["subject"] = _l("Choose from the list.")
        subject = "commissioner"
    known_figures = FIGURES_BY_SUBJECT[subject]
    year_text = (form.get("first_year") or "").strip()
    if not (year_text.isdigit() and 2000 <= int(year_text) <= 2100):
        errors["first_year"] = _l("Enter a year such as 2025.")
    bands = []  # [[grade, hundredths]]
    for grade in BAND_GRADES:
        value, problem = _number(form.get(f"band-{grade}", ""))
        if problem:
            errors[f"band-{grade}"] = problem
        else:
            bands.append([grade, scoring.centi(Decimal(value))])
    if len(bands) == 3 and not bands[0][1] >= bands[1][1] >= bands[2][1]:
        errors["band-good"] = _l("Each grade needs a total no higher than the grade above it.")
    for i in range(rows):
        prefix = f"ind-{i}-"
        label = (form.get(prefix + "name") or "").strip()
        if not label or form.get(prefix + "remove"):
            continue
        indicator = {"name": label[:60], "unit": (form.get(prefix + "unit") or "").strip()[:10],
                     "source": form.get(prefix + "source"), "rule": form.get(prefix + "rule"),
                     "bonus": bool(form.get(prefix + "bonus"))}
        if indicator["source"] not in SOURCES:
            errors[prefix + "source"] = _l("Choose from the list.")
        if indicator["rule"] not in RULES:
            errors[prefix + "rule"] = _l("Choose from the list.")
        if indicator["source"] == "computed":
            indicator["figure"] = form.get(prefix + "figure") or ""
            if indicator["figure"] not in known_figures:
                errors[prefix + "figure"] = _l("Choose which figure from the records.")
        if indicator["rule"] == "direct" and indicator["source"] != "entered":
            errors[prefix + "rule"] = _l("An entered score needs the source Entered by the station.")
        needed = ("max",) + scoring.RULE_NUMBERS.get(indicator["rule"], ())
        for number in SCHEME_NUMBERS:
            text = (form.get(prefix + number) or "").strip()
            if number not in needed and not text:
                continue
            value, problem = _number(text)
            if problem:
                errors[prefix + number] = problem
            else:
                indicator[number] = value
        key = (form.get(prefix + "key") or "").strip()
        if not key or key in used or not key.replace("_", "").isalnum() or len(key) > 40:
            key = indicator.get("figure") or "item"
            n = 1
            while key in used:
                n += 1
                key = f"{indicator.get('figure') or 'item'}_{n}"
        used.add(key)
        indicators.append({"key": key, **indicator})
    if not indicators:
        errors["indicators"] = _l("A scheme needs at least one indicator.")
    floor = None
    if subject == "station":
        from app.core.money import MoneyError, parse_yuan
        try:
            floor = parse_yuan(form.get("subsidy_floor", ""))
        except MoneyError as problem:
            errors["subsidy_floor"] = str(problem)
    data = {"name": name, "subject": subject,
            "first_year": int(year_text) if "first_year" not in errors else None,
            "indicators": {**((scheme.indicators or {}) if scheme else {}), "items": indicators,
                           **({"subsidy_floor_fen": floor} if floor is not None else {})},
            "bands": dict(bands),
            "notes": (form.get("notes") or "").strip()[:5000]}
    if not errors:
        problems = scoring.scheme_problems(indicators, bands)
        if problems:
            errors["indicators"] = "; ".join(problems)
    return errors, data


def schemes(user=None) -> list[AssessmentScheme]:
    return db.session.scalars(scoped(AssessmentScheme, user).order_by(
        AssessmentScheme.subject, AssessmentScheme.first_year.desc(), AssessmentScheme.name)).all()


def save_scheme(scheme: AssessmentScheme, data: dict) -> AssessmentScheme:
    """Change a scheme: a new edition (sheets already submitted keep theirs)."""
    return records.update(scheme, {**data, "edition": (scheme.edition or 0) + 1})


def copy_scheme(scheme: AssessmentScheme) -> AssessmentScheme:
    """A copy of a scheme for the user's own node to change (a league adapting the
    region's): it then scores that node's sheets (the nearest scheme wins)."""
    return records.create(AssessmentScheme(), {
        "name": f"{scheme.name}（{current_user.node_code}）"[:100], "subject": scheme.subject,
        "first_year": scheme.first_year, "indicators": dict(scheme.indicators or {}),
        "bands": dict(scheme.band_list), "notes": scheme.notes, "edition": 1})
