"""What a plan target can count (its indicator), each computed from the records."""
from app.core.i18n import lazy_gettext as _l

INDICATORS = {
    "new_stations": _l("New region-level commissioner workstations"),
    "clusters_with_team": _l("Industry clusters with an industry service team"),
    "trial_stations": _l("Rural revitalisation trial stations"),
    "industry_bases": _l("Characteristic industry bases"),
    "service_points": _l("Science and technology service points"),
    "commissioners": _l("Commissioners on the roster"),
}

# Indicators counted only over records dated within the target's window (from its
# start to its deadline): a *new* station is one established in the plan's years.
DATED = {"new_stations"}
