"""Schemes as data: a league admin copies the region's scheme and changes it (a new
edition each time; bad input is a 422 that writes nothing); it comes down to the
station, where it scores the year's sheets from then on, while a sheet submitted before
keeps the edition it was scored with. A station user cannot change or copy a scheme."""
from datetime import date

from flask import g
from sqlalchemy import func, select

from app.auth.services import create_user
from app.core.extensions import db
from app.models import AssessmentScheme, AssessmentSheet, AuditEntry, Commissioner
from app.models.shipped import shipped_id
from tests.sync_helpers import sync

STATION = "150121-01"
PASSWORD = "secret-pass-1"
REGION_SCHEME = shipped_id("assessment_scheme", "commissioner")
YEAR = date.today().year


def _login(app, username):
    client = app.test_client()
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return client


def _form(scheme: AssessmentScheme, **changes) -> dict:
    data = {"name": scheme.name, "subject": scheme.subject, "first_year": str(scheme.first_year),
            "band-excellent": "90", "band-good": "80", "band-pass": "60",
            "rows": str(len(scheme.indicator_list) + 2), "notes": ""}
    for i, ind in enumerate(scheme.indicator_list):
        for key, value in ind.items():
            if key == "bonus":
                if value:
                    data[f"ind-{i}-bonus"] = "1"
            else:
                data[f"ind-{i}-{key}"] = value
    data.update(changes)
    return data


def test_a_league_adapts_the_scheme_and_it_scores_the_stations_sheets(nodes):
    station, league, transport = nodes
    with station.app_context():
        g.actor = "test"
        create_user(username="staff", password=PASSWORD, role="station_staff", node_code=STATION)
        early, late = Commissioner(name="早报送", owner_node=STATION), \
            Commissioner(name="后打开", owner_node=STATION)
        db.session.add_all([early, late])
        db.session.commit()
        early_id, late_id = early.id, late.id
    staff = _login(station, "staff")
    assert staff.get(f"/assessments/schemes/{REGION_SCHEME}/edit").status_code == 403
    assert staff.post(f"/assessments/schemes/{REGION_SCHEME}/copy").status_code == 403
    opened = staff.post(f"/assessments/{YEAR}/open/{early_id}").headers["Location"].rsplit("/", 1)[-1]
    staff.post(f"/assessments/sheets/{opened}", data={"self_score": "10", "proposed_grade": "pass"})
    assert staff.post(f"/assessments/sheets/{opened}/submit").status_code == 302
    admin = _login(league, "admin")
    assert admin.get(f"/assessments/schemes/{REGION_SCHEME}/edit").status_code == 403  # the region's
    copied = admin.post(f"/assessments/schemes/{REGION_SCHEME}/copy")
    assert copied.status_code == 302
    copy_id = copied.headers["Location"].split("/")[-2]
    with league.app_context():
        copy = db.session.get(AssessmentScheme, copy_id)
        assert (copy.owner_node, copy.edition) == ("1501", 1)
        audits = db.session.scalar(select(func.count(AuditEntry.id)))
    for bad in ({"band-good": "95"}, {"ind-0-max": "abc"}, {"ind-1-rule": "magic"},
                {"ind-0-figure": "nothing"}, {"first_year": "1999"}, {"ind-6-rule": "direct",
                                                                     "ind-6-source": "computed"}):
        response = admin.post(f"/assessments/schemes/{copy_id}/edit", data=_form(copy, **bad))
        assert response.status_code == 422, bad
    with league.app_context():
        assert db.session.scalar(select(func.count(AuditEntry.id))) == audits
    # service days: full marks at 40 days now, and a new entered indicator
    response = admin.post(f"/assessments/schemes/{copy_id}/edit", data=_form(
        copy, **{"ind-0-threshold": "40", "ind-9-name": "科普活动", "ind-9-unit": "次",
                 "ind-9-source": "entered", "ind-9-rule": "per_unit", "ind-9-points": "1",
                 "ind-9-max": "3", "ind-9-bonus": "1", "ind-8-remove": "1"}))
    assert response.status_code == 302
    with league.app_context():
        copy = db.session.get(AssessmentScheme, copy_id)
        assert copy.edition == 2 and copy.indicator_list[0]["threshold"] == "40"
        keys = [i["key"] for i in copy.indicator_list]
        assert keys[-1] == "item" and "press" not in keys
    run = sync(station, transport)
    assert (run.rejected, run.held) == (0, 0)
    later = staff.post(f"/assessments/{YEAR}/open/{late_id}").headers["Location"].rsplit("/", 1)[-1]
    page = staff.get(f"/assessments/sheets/{later}").get_data(as_text=True)
    assert "科普活动" in page
    with station.app_context():
        submitted = db.session.get(AssessmentSheet, opened)
        assert submitted.snapshot["scheme"]["id"] == REGION_SCHEME
        assert submitted.snapshot["scheme"]["edition"] == 1
        assert submitted.scheme_edition == 1
    assert "科普活动" not in staff.get(f"/assessments/sheets/{opened}").get_data(as_text=True)
