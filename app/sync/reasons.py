"""What a held or refused operation means, in words a station's staff can act on.

The upstream answers with a code (and the field or record type concerned); this module
turns it into a sentence in the user's language saying what happened and what to do.
The upstream's own words stay beside it as the details line.
"""
from app.core.i18n import gettext as _
from app.core.i18n import lazy_gettext as _l

RECORD_TYPES = {
    "place": _l("place"), "cluster": _l("industry cluster"), "station": _l("station"),
    "site": _l("site"), "commissioner": _l("commissioner"), "service_target": _l("service target"),
    "service_team": _l("service team"), "visit": _l("field visit"), "training": _l("training session"),
    "training_attendee": _l("roster entry"), "agreement": _l("agreement"),
    "agreement_party": _l("agreement party"), "payout": _l("payout"),
    "attachment": _l("attachment"),
}


ACTIONS = {"create": _l("New record"), "update": _l("Change"), "delete": _l("Deletion"),
           "restore": _l("Restoration"), "resolve": _l("Conflict settled")}

FIELDS = {  # the fields a refusal most often names, as the forms call them
    "name": _l("Name"), "phone": _l("Phone"), "id_number": _l("ID number"),
    "notes": _l("Notes"), "problem": _l("Problem"), "action": _l("What was done"),
    "result": _l("Result"), "number": _l("Number"), "village_id": _l("Village"),
    "cluster_id": _l("Industry cluster"), "commissioners": _l("Commissioners"),
    "targets": _l("Service targets"), "station_id": _l("Station"),
    "review_state": _l("Review"), "review_comment": _l("Review comment"),
    "final_grade": _l("Final grade"), "subsidy_fen": _l("Post-subsidy"),
}


def record_type(code: str) -> str:
    return str(RECORD_TYPES.get(code, code))


def action(code: str) -> str:
    return str(ACTIONS.get(code, code))


def field_label(key: str) -> str:
    return str(FIELDS.get(key, key))


def explain(entry) -> str:
    """The sentence for a held or refused outbox entry."""
    problem = entry.problem or {}
    code = problem.get("code", "")
    field = field_label(problem.get("field", ""))
    kind = record_type(problem.get("ref_type", ""))
    if code == "parent_missing":
        return _("Waiting for its %(kind)s to sync first. It is sent again by itself once that "
                 "record has arrived; if that record was refused, deal with it first.", kind=kind)
    if code == "record_missing":
        return _("Waiting for the record itself to reach the upstream first. It is sent again "
                 "by itself; if the record's creation was refused, deal with that first.")
    if code == "bad_value":
        return _("The upstream cannot store the value of “%(field)s”. Correct the record here, "
                 "then send this change again.", field=field)
    if code == "bad_reference":
        return _("“%(field)s” points at a record this node may not use (another station's). "
                 "Choose another on the record here, then send this change again.", field=field)
    if code == "authored_above":
        return _("“%(field)s” is set by the league or the region, not by this station, and the "
                 "upstream refused this change. Discard it: the upstream's value comes down at "
                 "the next sync.", field=field)
    if code in ("not_yours", "moves_out"):
        return _("The upstream says this record belongs to another node. Check with the league "
                 "that this node's code is right, then send it again.")
    if code == "id_taken":
        return _("Another record on the upstream already has this record's id. Discard this "
                 "change and enter the record again.")
    if code == "exists_different":
        return _("The upstream already has this record with other content. Send it again; if "
                 "it is refused again, discard it and tell the league's administrator.")
    if code in ("malformed", "unknown_type", "bad_id", "op_id_reused"):
        return _("This program and the upstream's do not understand each other here. Make sure "
                 "both run the same version, then send it again.")
    if code in ("database", "failed"):
        return _("The upstream could not store this change. Send it again later; if it is refused "
                 "again, give the league's administrator the details below.")
    return _("The upstream refused this change. Send it again or discard it; the details say why.")
