"""The domain's fixed vocabularies, in the policy's own terms: stored as short codes,
shown through these labels (translated; Chinese is the default language)."""
from app.core.i18n import lazy_gettext as _l

ROLES = {
    "commissioner": _l("Commissioner"),
    "station_staff": _l("Station staff"),
    "station_admin": _l("Station admin"),
    "league_reviewer": _l("League reviewer"),
    "league_admin": _l("League admin"),
    "region_admin": _l("Region admin"),
}

NODE_ROLES = {"station": _l("Station"), "league": _l("League"), "region": _l("Region")}

PLACE_LEVELS = {
    "region": _l("Region"),
    "league": _l("League / city"),
    "county": _l("Banner / county"),
    "township": _l("Sumu / township"),
    "village": _l("Gacha / village"),
}

COMMISSIONER_KINDS = {
    "individual": _l("Individual"),
    "team": _l("Team"),
    "legal_entity": _l("Legal-entity commissioner"),
}

LEVELS = {"region": _l("Region level"), "league": _l("League level"), "county": _l("County level")}

SENDING_ORG_TYPES = {
    "university": _l("University"),
    "institute": _l("Research institute"),
    "extension": _l("Extension agency"),
    "enterprise": _l("Enterprise"),
    "local_talent": _l("Local talent"),
}

LOCAL_TALENT_KINDS = {
    "rich_leader": _l("Leader in getting rich"),
    "graduate": _l("College graduate"),
    "veteran": _l("Veteran"),
    "returnee": _l("Returning entrepreneur"),
}

COMMISSIONER_STATUSES = {
    "recognised": _l("Recognised"),
    "dispatched": _l("Dispatched"),
    "exited": _l("Exited"),
}

STATION_KINDS = {"expert": _l("Expert workstation"), "grassroots": _l("Grassroots workstation")}

HOST_ORG_TYPES = {
    "university": _l("University"),
    "institute": _l("Research institute"),
    "service_org": _l("Local service organisation"),
    "extension": _l("Extension station"),
    "enterprise": _l("Enterprise"),
    "coop": _l("Co-operative"),
}

SITE_KINDS = {
    "trial_station": _l("Rural revitalisation trial station"),
    "industry_base": _l("Characteristic industry base"),
    "service_point": _l("Science and technology service point"),
}

TARGET_KINDS = {
    "household": _l("Farming or herding household"),
    "coop": _l("Farmers' co-operative"),
    "enterprise": _l("Enterprise"),
    "family_farm": _l("Family farm or ranch"),
    "village_collective": _l("Village collective"),
}

SEXES = {"male": _l("Male"), "female": _l("Female")}


def options(vocabulary: dict, blank=None) -> list[tuple[str, str]]:
    """(code, label) pairs for a select field, optionally led by a blank choice."""
    pairs = [(code, label) for code, label in vocabulary.items()]
    return ([("", blank)] if blank is not None else []) + pairs
