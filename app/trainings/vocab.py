"""The training vocabularies, in the policy's own terms: stored as codes, shown as labels."""
from app.core.i18n import lazy_gettext as _l

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


class ByCode(dict):
    """Labels by code, where an unknown code is its own label (``labels[code]`` in a
    template: a lookup, where ``labels.get(code, code)`` is a call)."""

    def __missing__(self, code):
        return code


def list_labels() -> dict:
    """The list's labels translated once per request (not once a row)."""
    from app.core.i18n import gettext as _
    return {"people": _("%(count)s people", count="%s"), "women": _("Women"),
            "minorities": _("Ethnic minorities"), "poverty": _("Lifted out of poverty"),
            "counts": _("head counts"), "none": _("No attendance recorded"),
            "categories": ByCode({k: str(v) for k, v in CATEGORIES.items()}),
            "modes": ByCode({k: str(v) for k, v in MODES.items()}),
            "statuses": ByCode({k: str(v) for k, v in STATUSES.items()})}


# Common ways of writing sex, ethnicity and category on a filled sign-in sheet, read as
# the codes above (documented in the README, "Exports and the roster import"). Keys are
# compared after NFKC and without spaces.
SEX_SYNONYMS = {"男": "male", "男性": "male", "男士": "male", "先生": "male", "m": "male",
                "女": "female", "女性": "female", "女士": "female", "妇女": "female", "f": "female"}
ETHNICITY_SYNONYMS = {"汉": "汉族", "蒙": "蒙古族", "蒙族": "蒙古族", "蒙古": "蒙古族",
                      "回": "回族", "满": "满族", "藏": "藏族", "维": "维吾尔族",
                      "维族": "维吾尔族", "朝鲜": "朝鲜族", "达斡尔": "达斡尔族",
                      "鄂温克": "鄂温克族", "鄂伦春": "鄂伦春族"}
CATEGORY_SYNONYMS = {
    "农民": "farmer", "农户": "farmer", "牧民": "farmer", "农牧户": "farmer", "村民": "farmer",
    "种植户": "farmer", "养殖户": "farmer", "群众": "farmer",
    "村支书": "village_secretary", "村书记": "village_secretary", "支书": "village_secretary",
    "村党支部书记": "village_secretary", "嘎查书记": "village_secretary",
    "合作社": "coop_head", "合作社理事长": "coop_head", "理事长": "coop_head",
    "企业": "enterprise_head", "企业负责人": "enterprise_head", "企业主": "enterprise_head",
    "致富能手": "rich_leader", "带头人": "rich_leader",
    "特派员": "commissioner", "技术员": "technician", "农技员": "technician",
}
