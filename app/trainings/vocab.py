"""The training vocabularies, in the policy's own terms: stored as codes, shown as labels."""
from flask_babel import lazy_gettext as _l

MODES = {"offline": _l("In person"), "online": _l("Online"), "mixed": _l("In person and online")}

STATUSES = {"planned": _l("Planned"), "held": _l("Held"), "cancelled": _l("Cancelled")}

# Who came, by the categories the policy names (致富带头人 … 技术骨干) and 其他.
CATEGORIES = {
    "rich_leader": _l("Leader in getting rich"),
    "coop_head": _l("Head of a co-operative"),
    "enterprise_head": _l("Head of an enterprise"),
    "village_secretary": _l("Village Party secretary"),
    "farmer": _l("Farmer or herder"),
    "commissioner": _l("Commissioner"),
    "technician": _l("Technical backbone"),
    "other": _l("Other"),
}

ATTACHMENT_KINDS = {"scan": _l("Sign-in sheet scan"), "photo": _l("Photo"),
                    "document": _l("Slides or materials (PDF)")}

HAN = {"汉", "汉族", "han"}


def is_minority(ethnicity: str) -> bool:
    """Whether an ethnicity as written names an ethnic minority (blank: unknown, no)."""
    value = (ethnicity or "").strip()
    return bool(value) and value.casefold() not in HAN

# The files (sign-in sheet, exports) are in Chinese whatever the interface language:
# these labels are their format, not translations.
FILE_CATEGORIES = {"rich_leader": "致富带头人", "coop_head": "合作社负责人",
                   "enterprise_head": "企业负责人", "village_secretary": "村书记",
                   "farmer": "农牧民", "commissioner": "科技特派员", "technician": "技术骨干",
                   "other": "其他"}
FILE_MODES = {"offline": "线下", "online": "线上", "mixed": "线上线下混合"}
FILE_STATUSES = {"planned": "计划", "held": "已举办", "cancelled": "已取消"}


def list_labels() -> dict:
    """The list's labels translated once per request (not once a row)."""
    from flask_babel import gettext as _
    return {"people": _("%(count)s people", count="%s"), "women": _("Women"),
            "minorities": _("Ethnic minorities"), "poverty": _("Lifted out of poverty"),
            "counts": _("head counts"), "none": _("No attendance recorded"),
            "categories": {k: str(v) for k, v in CATEGORIES.items()},
            "modes": {k: str(v) for k, v in MODES.items()},
            "statuses": {k: str(v) for k, v in STATUSES.items()}}
