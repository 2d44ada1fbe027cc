"""The visit's fixed vocabularies, in the policy's terms (stored as codes)."""
from app.core.i18n import lazy_gettext as _l

STAGES = {"pre": _l("Pre-production"), "during": _l("In production"), "post": _l("Post-production")}

SERVICE_TYPES = {
    "guidance": _l("Technical guidance"),
    "promotion": _l("Technology promotion"),
    "transfer": _l("Transfer of results"),
    "consulting": _l("Consulting and answers"),
    "market": _l("Linking production and sales"),
    "demo_base": _l("Building demonstration bases"),
    "policy": _l("Policy publicity"),
    "other": _l("Other"),
}

MODES = {"onsite": _l("On site"), "online": _l("Online"), "hotline": _l("12396 hotline")}

REVIEW_STATES = {"": _l("Not reviewed"), "received": _l("Received"),
                 "has_issues": _l("Has issues"), "approved": _l("Approved")}

SORTS = {
    "-date": _l("Newest first"),
    "date": _l("Oldest first"),
    "-number": _l("Number, descending"),
    "-updated": _l("Recently changed"),
}
