"""The agreement's vocabularies, stored as short codes and shown through these labels."""
from app.core.i18n import lazy_gettext as _l

FORMS = {
    "technology_equity": _l("Technology as equity"),
    "asset_equity": _l("Assets as equity"),
    "capital_equity": _l("Capital as equity"),
    "ip_equity": _l("Research results or intellectual property as equity"),
    "tech_contracting": _l("Technology contracting"),
    "paid_service": _l("Paid service"),
}

BASES = {
    "fixed": _l("Fixed amount"),
    "by_share": _l("By share"),
    "by_output": _l("By output"),
}

STATUSES = {
    "draft": _l("Draft"),
    "signed": _l("Signed"),
    "in_force": _l("In force"),
    "ended": _l("Ended"),
    "terminated": _l("Terminated"),
}

PAYOUT_KINDS = {
    "dividend": _l("Dividend"),
    "service_fee": _l("Service fee"),
    "transfer_fee": _l("Transfer fee"),
    "other": _l("Other"),
}

ATTENTION = {
    "ending_soon": _l("Ending within 60 days"),
    "silent": _l("In force, no payout for 12 months"),
    "overdue": _l("Past its end date, still in force"),
}

# What the button for each step says.
ACTIONS = {
    "signed": _l("Mark as signed"),
    "in_force": _l("Put in force"),
    "ended": _l("End"),
    "terminated": _l("Terminate"),
}


def list_labels() -> dict:
    """The list's codes as translated text, once per request (not once a row)."""
    return {"forms": {k: str(v) for k, v in FORMS.items()},
            "statuses": {k: str(v) for k, v in STATUSES.items()}}
