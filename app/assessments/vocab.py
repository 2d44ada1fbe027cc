"""The assessment's fixed vocabularies: grades, rule kinds, sources, computed figures."""
from app.core.i18n import lazy_gettext as _l

GRADES = {"excellent": _l("Excellent"), "good": _l("Good"), "pass": _l("Pass"),
          "fail": _l("Fail")}

RULES = {
    "per_unit": _l("Points per unit, up to the maximum"),
    "threshold": _l("Full marks at the threshold, a deduction per unit short"),
    "fixed": _l("Fixed points when the threshold is met"),
    "direct": _l("The score is entered (up to the maximum)"),
}

SOURCES = {"computed": _l("Computed from the records"), "entered": _l("Entered by the station")}

SUBJECTS = {"commissioner": _l("Commissioner"), "station": _l("Workstation")}

STATUSES = {"draft": _l("Draft"), "submitted": _l("Submitted, awaiting review"),
            "returned": _l("Returned"), "graded": _l("Graded"), "none": _l("Not started")}

# What the records answer for a commissioner's year (app/assessments/figures.py).
FIGURES = {
    "service_days": _l("Service days"),
    "visits": _l("Visits"),
    "hours": _l("Hours of service"),
    "villages": _l("Villages served"),
    "targets": _l("Service targets served"),
    "priority_targets": _l("of them poverty-alleviated or monitored households"),
    "technologies": _l("Technologies promoted"),
    "varieties": _l("Varieties promoted"),
    "technologies_varieties": _l("Technologies and varieties promoted"),
    "trainings": _l("Training sessions as trainer"),
    "people_trained": _l("People trained"),
    "agreements": _l("Benefit-sharing agreements in force"),
    "payouts_fen": _l("Payouts received (yuan)"),
}
MONEY_FIGURES = {"payouts_fen"}

# What the records answer for a station's year (app/assessments/figures.py).
STATION_FIGURES = {
    "commissioners": _l("Commissioners active in the year"),
    "visits": _l("Visits"),
    "service_days": _l("Service days (commissioner-days)"),
    "trainings": _l("Training sessions held"),
    "people_trained": _l("People trained"),
    "trial_stations": _l("Rural revitalisation trial stations"),
    "industry_bases": _l("Characteristic industry bases"),
    "service_points": _l("Science and technology service points"),
    "targets": _l("Service targets served"),
    "priority_targets": _l("of them poverty-alleviated or monitored households"),
    "priority_share": _l("Share poverty-alleviated or monitored (%)"),
    "agreements": _l("Benefit-sharing agreements in force"),
    "payouts_fen": _l("Payouts (yuan)"),
}
FIGURES_BY_SUBJECT = {"commissioner": FIGURES, "station": STATION_FIGURES}
