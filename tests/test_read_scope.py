"""Read scope by role (app/core/security.py, ``COMMISSIONER_READS``): every GET route that
names a record, as every role, on records owned by the user themself, by a colleague of
their node and by another node, answers the page (or a 403 where the role may read the
record but not change it) when the declaration lets the role read the record, and exactly
what a record that does not exist gets (a 404, or the role's refusal of the route) when
it does not.

A commissioner reads their own visits, the agreements they are party to (parties and
payouts too), the trainings they give (attendees too), their own commissioner record and
assessment sheets,
the files of those, and the reference data forms need (places, stations and sites,
service targets); every other record of the station is a 404. Station staff and admins
read their station; league roles read their league's stations; nobody reads another
node's records. A commissioner reads their own assessment sheet and no one else's.
One station and one league database serve the whole module."""
from datetime import date

import pytest
from flask import g
from sqlalchemy import select

from app.auth.services import create_user
from app.core import files
from app.core.extensions import db
from app.core.security import COMMISSIONER_READS, REFERENCE_DATA
from app.models import (
    Agreement,
    AgreementParty,
    AssessmentScheme,
    AssessmentSheet,
    Attachment,
    Cluster,
    Commissioner,
    Payout,
    Place,
    ServiceTarget,
    ServiceTeam,
    Site,
    Station,
    Training,
    TrainingAttendee,
    Visit,
)
from tests.factories import picture
from tests.sync_helpers import make_node

STATION, NEIGHBOUR, LEAGUE, OTHER_LEAGUE_STATION = "150121-01", "150122-01", "1501", "150221-01"
PASSWORD = "secret-pass-1"
OWNERS = ("own", "colleague", "other")
ROLES = {  # user name: (role, database)
    "commissioner": ("commissioner", "station"), "staff": ("station_staff", "station"),
    "admin": ("station_admin", "station"), "reviewer": ("league_reviewer", "league"),
    "league-admin": ("league_admin", "league"),
}
# What each kind of record is, by the route argument or blueprint that names it.
BLUEPRINT_KINDS = {"visits": "visit", "agreements": "agreement", "trainings": "training",
                   "commissioners": "commissioner", "targets": "target", "places": "place",
                   "stations": "station", "stations.sites": "site", "teams": "team",
                   "clusters": "cluster", "assessments": "sheet"}
CHILD_KINDS = {"payout_id": "payout", "attendee_id": "attendee"}
REFERENCE_KINDS = {"target", "place", "station", "site"}
FILE_KINDS = ("visit", "agreement", "training")  # whose files /files/<sha256> serves
SKIPPED_ENDPOINTS = {"static", "clusters.detail", "clusters.edit", "clusters.delete",
                     "goals.detail", "goals.edit", "goals.delete",
                     "assessments.scheme", "assessments.edit_scheme"}
# Clusters, plan targets and assessment schemes are published from above (owned by the
# region or a league): no station owns one, and who reads them is tested with them
# (tests/test_clusters.py, tests/test_goals.py, tests/test_assessment_schemes.py).


def readable(role: str, kind: str, owner: str) -> bool:
    """The declaration, as this test expects it."""
    if owner == "other":
        return False
    if role != "commissioner":
        return True
    if kind in REFERENCE_KINDS:
        return True
    return kind != "team" and owner == "own"


def test_the_declaration_names_the_reference_data_and_nothing_more():
    whole = {model for model, condition in COMMISSIONER_READS.items() if condition is None}
    assert whole == set(REFERENCE_DATA) | {AssessmentScheme}
    assert set(REFERENCE_DATA) == {Place, Cluster, Station, Site, ServiceTarget}
    assert ServiceTeam not in COMMISSIONER_READS
    assert set(COMMISSIONER_READS) - whole == {Visit, Agreement, AgreementParty, Payout, Training,
                                              TrainingAttendee, Commissioner, Attachment,
                                              AssessmentSheet}


def _records(owner_node: str, label: str, number: int) -> dict:
    """A full set of records owned by ``owner_node``, around one commissioner: a visit
    they made, an agreement they are party to (with a payout), a training they gave
    (with an attendee), files of each, and the node's reference data."""
    person = Commissioner(name=f"特派员-{label}", owner_node=owner_node)
    station = Station(name=f"工作站-{label}", kind="grassroots", owner_node=owner_node)
    county = db.session.scalar(select(Place).where(Place.code == owner_node[:6]))
    township = Place(name=f"苏木-{label}", level="township", parent_id=county.id, owner_node=owner_node)
    db.session.add(township)
    db.session.flush()
    village = Place(name=f"嘎查-{label}", level="village", parent_id=township.id, owner_node=owner_node)
    target = ServiceTarget(name=f"农户-{label}", kind="household", owner_node=owner_node)
    db.session.add_all([person, station, village, target])
    db.session.flush()
    site = Site(name=f"基地-{label}", kind="industry_base", station_id=station.id, owner_node=owner_node)
    team = ServiceTeam(name=f"服务团-{label}", owner_node=owner_node, members=[person])
    visit = Visit(number=f"{owner_node}-2026-{number:05d}", year=2026, sequence=number,
                  visited_on=date(2026, 5, 1), problem=f"问题-{label}", owner_node=owner_node,
                  commissioners=[person], targets=[target])
    agreement = Agreement(number=f"LY-{label}", title=f"协议-{label}", form="technology_equity",
                          status="signed", owner_node=owner_node, counterpart_id=target.id)
    training = Training(title=f"培训-{label}", held_on=date(2026, 4, 1), hours=2,
                        owner_node=owner_node, trainers=[person])
    sheet = AssessmentSheet(subject="commissioner", year=2026, commissioner_id=person.id,
                            owner_node=owner_node)
    db.session.add_all([site, team, visit, agreement, training, sheet])
    db.session.flush()
    party = AgreementParty(agreement_id=agreement.id, commissioner_id=person.id, share_bp=10000,
                           owner_node=owner_node)
    payout = Payout(agreement_id=agreement.id, paid_on=date(2026, 6, 1), amount_fen=100,
                    kind="dividend", payee_id=person.id, owner_node=owner_node)
    attendee = TrainingAttendee(training_id=training.id, name=f"学员-{label}", owner_node=owner_node)
    ids = {"commissioner": person.id, "station": station.id, "place": village.id,
           "target": target.id, "site": site.id, "team": team.id, "visit": visit.id,
           "agreement": agreement.id, "training": training.id, "sheet": sheet.id}
    for index, kind in enumerate(FILE_KINDS):  # a photo of its own each (its thumbnail is served too)
        sha = files.store(picture("JPEG", width=40 + index, height=30 + number))
        db.session.add(Attachment(record_type=kind, record_id=ids[kind], kind="photo", sha256=sha,
                                  filename=f"{kind}.jpg", content_type="image/jpeg", size=10,
                                  owner_node=owner_node))
        ids[f"file:{kind}"] = sha
    db.session.add_all([party, payout, attendee])
    db.session.flush()
    ids.update(payout=payout.id, attendee=attendee.id)
    return ids


def _seed(app, owners: dict) -> dict:
    """{owner: ids} of records made as if they had come by sync (any owner node)."""
    with app.app_context():
        g.actor = "test"
        db.session.info["applying_sync"] = True
        found = {owner: _records(node, owner, n + 1) for n, (owner, node) in enumerate(owners.items())}
        db.session.commit()
        db.session.info.pop("applying_sync")
    return found


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    """The station (its commissioner's records, a colleague's, a neighbour station's that
    reached it) and the league (the station's records and another league's station's)."""
    tmp = tmp_path_factory.mktemp("read-scope")
    station = make_node(tmp, "station", "station", STATION, "土左旗工作站")
    league = make_node(tmp, "league", "league", LEAGUE, "呼和浩特市科技局")
    station.ids = _seed(station, {"own": STATION, "colleague": STATION, "other": NEIGHBOUR})
    league.ids = _seed(league, {"own": STATION, "colleague": STATION, "other": OTHER_LEAGUE_STATION})
    with station.app_context():
        g.actor = "test"
        create_user(username="staff", password=PASSWORD, role="station_staff", node_code=STATION)
        create_user(username="commissioner", password=PASSWORD, role="commissioner",
                    node_code=STATION, commissioner_id=station.ids["own"]["commissioner"])
    with league.app_context():
        g.actor = "test"
        create_user(username="reviewer", password=PASSWORD, role="league_reviewer", node_code=LEAGUE)
    clients = {}
    for username, (_role, where) in ROLES.items():
        app = station if where == "station" else league
        client = app.test_client()
        name = {"league-admin": "admin"}.get(username, username)  # make_node's admin
        response = client.post("/login", data={"username": name, "password": PASSWORD})
        assert response.status_code == 302
        clients[username] = (client, app)
    yield clients
    for app in (station, league):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _routes():
    """(endpoint, kind) of every GET route that names a record, from the URL map."""
    from app import create_app
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    found = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in SKIPPED_ENDPOINTS \
                or rule.endpoint.startswith("sync_api."):
            continue
        args = set(rule.arguments)
        if "sha256" in args:
            found += [(rule.endpoint, f"file:{kind}") for kind in FILE_KINDS]
            continue
        child = args & set(CHILD_KINDS)
        if child:
            found.append((rule.endpoint, CHILD_KINDS[child.pop()]))
        elif args & {"record_id", "station_id"}:
            blueprint = rule.endpoint.rsplit(".", 1)[0]
            found.append((rule.endpoint, "station" if "station_id" in args else BLUEPRINT_KINDS[blueprint]))
    return sorted(found)


ROUTES = _routes()
PARENTS = {"payout": "agreement", "attendee": "training"}


def _url(app, endpoint: str, kind: str, ids: dict | None) -> str:
    """The route's URL for the record of ``kind`` in ``ids`` (None: a record that does not exist)."""
    from flask import url_for
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    values = {}
    for name in rule.arguments:
        if name == "sha256":
            values[name] = ids[kind] if ids else "0" * 64
        elif name in CHILD_KINDS:
            values[name] = ids[kind] if ids else "nonesuch"
        elif name == "record_id" and kind in PARENTS:
            values[name] = ids[PARENTS[kind]] if ids else "nonesuch"
        elif name in ("record_id", "station_id"):
            values[name] = ids[kind] if ids else "nonesuch"
        elif name == "to":
            values[name] = "in_force"
    with app.test_request_context():
        return url_for(endpoint, **values)


def test_the_walk_covers_every_kind_of_record():
    kinds = {kind for _, kind in ROUTES}
    assert kinds >= {"visit", "agreement", "payout", "training", "attendee", "commissioner",
                     "target", "place", "station", "site", "team", *(f"file:{k}" for k in FILE_KINDS)}


@pytest.mark.parametrize("username", list(ROLES))
@pytest.mark.parametrize("endpoint, kind", ROUTES)
def test_every_route_follows_the_read_declaration(nodes, username, endpoint, kind):
    client, app = nodes[username]
    role = ROLES[username][0]
    record_kind = kind.split(":")[-1] if kind.startswith("file:") else kind
    record_kind = {"payout": "agreement", "attendee": "training"}.get(record_kind, record_kind)
    missing = client.get(_url(app, endpoint, kind, None)).status_code
    assert missing in (403, 404), (endpoint, "a record that does not exist", missing)
    wrong = []
    for owner in OWNERS:
        url = _url(app, endpoint, kind, app.ids[owner])
        status = client.get(url).status_code
        if readable(role, record_kind, owner):  # shown, or a refusal to change it
            ok = status < 400 or status == 403
        else:  # what a record that does not exist gets: it tells nothing
            ok = status == missing
        if not ok:
            wrong.append((owner, url, status))
    assert not wrong, wrong


LISTS = ("/", "/visits/", "/visits/export.csv", "/agreements/", "/agreements/export.csv",
         "/trainings/", "/trainings/export.csv", "/commissioners/", "/commissioners/search?q=特派员",
         "/teams/", "/sync/", "/sync/totals", "/visits/new?form=full")


def _marks(ids: dict, app, owner: str) -> dict:
    """{kind: text} that names the ``owner``'s records in lists and exports."""
    with app.app_context():
        visit = db.session.get(Visit, ids[owner]["visit"])
        return {"visit": visit.number, "agreement": f"协议-{owner}", "training": f"培训-{owner}",
                "team": f"服务团-{owner}"}


def test_lists_exports_and_counts_show_a_commissioner_only_what_they_read(nodes):
    """Staff first (so that remembered answers exist), then the commissioner: their lists,
    exports and pickers name their own records and none of a colleague's."""
    staff, app = nodes["staff"]
    commissioner, _ = nodes["commissioner"]
    own, colleague = _marks(app.ids, app, "own"), _marks(app.ids, app, "colleague")
    seen = "".join(staff.get(url).get_data(as_text=True) for url in LISTS)
    assert all(text in seen for text in [*own.values(), *colleague.values()])
    wrong = []
    for url in LISTS:
        response = commissioner.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code in (200, 403), (url, response.status_code)
        wrong += [(url, kind) for kind, text in colleague.items() if text in page]
        if url.startswith(("/visits/", "/agreements/", "/trainings/")) and response.status_code == 200 \
                and "new" not in url:
            kind = url.split("/")[1][:-1]
            assert own[kind] in page, (url, kind)
    assert not wrong, wrong


def test_a_commissioner_may_still_name_colleagues_on_a_visit(nodes):
    """The co-commissioner picker offers the station's commissioners by name (a visit made
    together), though their records are a 404 to a commissioner."""
    commissioner, app = nodes["commissioner"]
    page = commissioner.get("/visits/new?form=full").get_data(as_text=True)
    assert "特派员-colleague" in page and "特派员-other" not in page
    found = commissioner.get("/commissioners/search?q=特派员").get_data(as_text=True)
    assert "特派员-colleague" in found and "特派员-other" not in found
    assert commissioner.get(f"/commissioners/{app.ids['colleague']['commissioner']}").status_code == 404


def test_remembered_answers_are_kept_per_reading_scope(nodes):
    from app.core.security import reading_scope
    _, app = nodes["staff"]
    with app.app_context():
        from app.models import User
        users = {u.username: u for u in db.session.scalars(select(User))}
        assert reading_scope(users["staff"]) == reading_scope(users["admin"])
        assert reading_scope(users["commissioner"]) != reading_scope(users["staff"])


def test_the_home_page_counts_what_the_user_reads(nodes):
    """Counts are remembered (app/core/cache.py) per reading scope: the staff's answer, asked
    first, is not the commissioner's."""
    from flask import template_rendered
    found = {}

    def note(sender, template, context, **extra):
        if "counts" in context:
            found[username] = context["counts"]
    for username in ("staff", "commissioner"):
        client, app = nodes[username]
        with template_rendered.connected_to(note, app):
            assert client.get("/").status_code == 200
    assert found["staff"]["commissioner"] == 2
    assert found["commissioner"]["commissioner"] == 1


def test_a_commissioner_editing_a_joint_visit_keeps_the_colleague_on_it(nodes):
    """The edit form of a visit made together still names the colleague (a form that
    lost them would drop them from the visit on saving)."""
    commissioner, app = nodes["commissioner"]
    mine, theirs = app.ids["own"]["commissioner"], app.ids["colleague"]["commissioner"]
    with app.app_context():
        g.actor = "test"
        db.session.info["applying_sync"] = True
        visit = Visit(number=f"{STATION}-2026-00099", year=2026, sequence=99, visited_on=date(2026, 5, 2),
                      problem="合作", owner_node=STATION,
                      commissioners=[db.session.get(Commissioner, mine), db.session.get(Commissioner, theirs)])
        db.session.add(visit)
        db.session.commit()
        db.session.info.pop("applying_sync")
        visit_id = visit.id
    page = commissioner.get(f"/visits/{visit_id}/edit?form=full")
    assert page.status_code == 200
    assert f'value="{theirs}"' in page.get_data(as_text=True)
