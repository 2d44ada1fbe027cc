"""Property: no form and no parameter gets a 500. The test walks the app's URL map; for
every route that takes a POST it posts generated values (missing fields, huge strings,
control characters, wrong types, negative and non-finite numbers, bad dates, stray
files) as each role, against records of the demo station that exist; every GET route
gets generated query parameters. Any 5xx (or an exception) fails.

The fields a route takes are found the way a browser finds them: the pages of the demo
station are crawled as each role and every ``<form>`` is read (its action, fields,
options and values). KEPAI_SOAK=N runs N examples per route and role (N/2 per GET
route) instead of the suite's two (`make soak`)."""
import io
import os
import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import g
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from werkzeug.routing import BuildError

from app import create_app
from app.auth.services import create_user
from app.core.extensions import db
from app.models import (
    Agreement,
    Attachment,
    Cluster,
    Commissioner,
    Payout,
    Place,
    ServiceTarget,
    ServiceTeam,
    Site,
    Station,
    SyncConflict,
    Training,
    TrainingAttendee,
    User,
    Visit,
)
from tests.settings import TEST_CONFIG

EXAMPLES = int(os.environ.get("KEPAI_SOAK", "2"))
LEAGUE = "1501"
ROLES = {  # user name: (role, node)
    "demo-admin": ("station_admin", None), "demo-staff": ("station_staff", None),
    "demo-commissioner": ("commissioner", None),
    "fuzz-reviewer": ("league_reviewer", LEAGUE), "fuzz-league": ("league_admin", LEAGUE),
}
STATION_ROLES = ("demo-admin", "demo-staff", "demo-commissioner")
# Where a URL's record id comes from: (blueprint or endpoint, argument) -> model.
MODELS = {"visits": Visit, "trainings": Training, "agreements": Agreement,
          "commissioners": Commissioner, "targets": ServiceTarget, "places": Place,
          "clusters": Cluster, "stations": Station, "stations.sites": Site,
          "teams": ServiceTeam}
CHILDREN = {"payout_id": (Payout, "agreement_id"), "attendee_id": (TrainingAttendee, "training_id"),
            "attachment_id": (Attachment, "record_id")}
SKIP = {"static", "sync_api.file_upload"}  # files on disk; the sync API has its own tests
# Routes that end what later examples need run last (deletes, logout).
LAST = ("delete", "remove", "revoke", "detach", "logout", "end_sessions", "restore")
QUERY_NAMES = ["page", "after", "before", "last", "q", "node", "next", "form", "sort",
               "order", "year", "status", "kind", "from", "to", "deleted", "lang"]


class Forms(HTMLParser):
    """The ``<form>``s of a page: method, action, and each field's name, type and the
    values it offers (options, checkbox values, preset values)."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"method": (a.get("method") or "get").lower(),
                          "action": a.get("action"), "fields": defaultdict(set), "types": {}}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag in ("input", "textarea", "select", "button"):
            name = a["name"]
            kind = a.get("type", tag) if tag == "input" else tag
            self._form["types"].setdefault(name, kind)
            if a.get("value") is not None:
                self._form["fields"][name].add(a["value"])
            else:
                self._form["fields"][name]
            if tag == "select":
                self._select = name
        if tag == "option" and self._select and self._form is not None:
            self._form["fields"][self._select].add(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _junk():
    """Values no form should choke on."""
    numbers = st.sampled_from(["-1", "-0", "0", "1e309", "-1e309", "nan", "NaN", "inf",
                               "-inf", "1e100", "99999999999999999999", "0x10", "1,5", "3.5",
                               "-2147483649", "9223372036854775808", "12", "1"])
    dates = st.sampled_from(["2025-02-30", "0000-00-00", "99999-01-01", "2025-13-01",
                             "0001-01-01", "9999-12-31", "2025/05/06", "yesterday",
                             "2025-05-06", "25:99", "09:00", "23:59", "24:00", "-1:00"])
    texts = st.one_of(
        st.text(max_size=30),
        st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=10),  # control characters
        st.sampled_from(["", " ", "\x00", "\ufeff", "甲" * 5000, "x" * 70000, "../../x",
                         "<script>", "' OR 1=1 --", "%s%n", "\ud7ff", "on", "y", "true"]))
    return st.one_of(numbers, dates, texts)


def _value(offered: set):
    choices = sorted(v for v in offered if v is not None)
    if choices:
        return st.one_of(st.sampled_from(choices), _junk())
    return _junk()


@st.composite
def _form_data(draw, fields: dict, types: dict):
    """Some of the form's fields (the others missing), each one or several values that
    it offers or junk; a file field gets a small file of junk; now and then a field no
    form has."""
    data = {}
    for name, offered in fields.items():
        if name == "csrf_token" or draw(st.integers(0, 4)) == 0:
            continue  # missing
        if types.get(name) == "file":
            if draw(st.booleans()):
                content = draw(st.binary(max_size=64))
                filename = draw(st.sampled_from(["x.jpg", "a.png", "s.xlsx", "../../x.pdf",
                                                 "", "名单.csv", "\x01.heic"]))
                data[name] = (io.BytesIO(content), filename)
            continue
        values = draw(st.lists(_value(offered), min_size=1, max_size=3))
        data[name] = values if len(values) > 1 or draw(st.booleans()) else values[0]
    if draw(st.integers(0, 5)) == 0:
        data[draw(st.text(min_size=1, max_size=8))] = draw(_junk())
    return data


def _argument(draw, endpoint: str, name: str, live: dict):
    """A value for a URL argument: mostly an existing record's id, sometimes junk."""
    pool = live.get((endpoint, name)) or []
    if pool and draw(st.integers(0, 9)):
        return draw(st.sampled_from(pool))
    return draw(st.sampled_from(["0", "-1", "nonesuch", "9" * 30, "%00", "..", "x.y"]))


class FuzzStation:
    """The app on a temporary SQLite file with the demo station, league accounts, the
    crawled forms, and the routes to fuzz."""

    def __init__(self, tmp):
        os.environ["KEPAI_INSTANCE"] = str(tmp / "instance")
        self.app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI":
                               f"sqlite:///{tmp / 'fuzz.sqlite3'}", "SYNC_AUTO": False,
                               "SYNC_TIMEOUT": 1, "ANSWER_CACHE": False})
        with self.app.app_context():
            from app.demo import seed
            from app.visits.search import install
            g.actor = "fuzz"
            db.create_all()
            with db.engine.begin() as conn:
                install(conn)
            seed("small")
            for username, (role, node) in ROLES.items():
                if node:
                    create_user(username=username, password="fuzz-pass-1", role=role,
                                node_code=node)
        self.client = self.app.test_client()
        self.forms = defaultdict(list)  # endpoint -> [(fields, types)]
        self.query_names = set(QUERY_NAMES)
        self._crawl()

    def as_user(self, username: str):
        """Log the client in as ``username`` (its role and activity reset first, in case
        an earlier example changed them through the users page)."""
        role, node = ROLES[username]
        with self.app.app_context():
            user = db.session.scalar(select(User).where(User.username == username))
            db.session.execute(update(User).where(User.id == user.id).values(
                role=role, active=True))
            db.session.commit()
            session_id = db.session.get(User, user.id).get_id()
        with self.client.session_transaction() as session:
            session.clear()
            session["_user_id"] = session_id
            session["_fresh"] = True

    def live(self) -> dict:
        """{(endpoint, argument): [values]} for every route argument, from the data now."""
        found = {}
        with self.app.app_context():
            ids = {}
            for model in set(MODELS.values()):
                ids[model] = [str(i) for i in db.session.scalars(
                    select(model.id).where(model.deleted_at.is_(None)).limit(6))]
            for name, (child, parent) in CHILDREN.items():
                column = getattr(child, parent)
                alive = child.deleted_at.is_(None) if hasattr(child, "deleted_at") else True
                ids[name] = [(str(c), str(p)) for c, p in db.session.execute(
                    select(child.id, column).where(alive).limit(6))]
            users = [str(u) for u in db.session.scalars(select(User.id))]
            conflicts = [str(c) for c in db.session.scalars(select(SyncConflict.id))]
            shas = list(db.session.scalars(select(Attachment.sha256).limit(3)))
        for rule in self.app.url_map.iter_rules():
            endpoint = rule.endpoint
            blueprint = endpoint.rsplit(".", 1)[0]
            model = MODELS.get(blueprint)
            for name in rule.arguments:
                values = []
                if name in CHILDREN:
                    values = ids[name]
                elif name == "record_id" and model is not None:
                    values = ids[model]
                elif name == "station_id":
                    values = ids[Station]
                elif name == "user_id":
                    values = users
                elif name == "conflict_id":
                    values = conflicts or ["1"]
                elif name == "seq":
                    values = ["1", "2"]
                elif name == "sha256":
                    values = shas or ["0" * 64]
                elif name == "fmt":
                    values = ["csv", "xlsx", "pdf"]
                elif name == "kind":
                    values = ["commissioners", "targets", "visits", "trainings", "agreements",
                              "places"]
                elif name == "to":
                    values = ["signed", "in_force", "ended", "terminated", "draft"]
                elif name == "code":
                    values = ["150121-01", LEAGUE, "150122-01"]
                found[(endpoint, name)] = values
        return found

    def url(self, rule, draw, live) -> str | None:
        values = {}
        for name in sorted(rule.arguments, key=lambda n: n not in CHILDREN):
            if name in values:
                continue
            value = _argument(draw, rule.endpoint, name, live)
            if isinstance(value, tuple):  # a child record and its parent
                values[name], parent = value
                values.setdefault("record_id", parent)
            else:
                values[name] = value
        try:
            with self.app.test_request_context():
                from flask import url_for
                return url_for(rule.endpoint, **values)
        except (BuildError, ValueError):  # junk for an <int:...>: not even a URL
            return None

    def _crawl(self):
        """Read every form on every page the roles can reach (one record per kind)."""
        adapter = self.app.url_map.bind("localhost")
        live = self.live()
        pages = set()
        for rule in self.app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in SKIP or "export" in rule.rule:
                continue
            values = {}
            for name in rule.arguments:
                pool = live.get((rule.endpoint, name)) or []
                if not pool:
                    break
                value = pool[0]
                if isinstance(value, tuple):
                    values[name], values["record_id"] = value
                else:
                    values.setdefault(name, value)
            else:
                try:
                    pages.add(adapter.build(rule.endpoint, values))
                except BuildError:
                    pass
        for username in ROLES:
            self.as_user(username)
            for page in sorted(pages):
                response = self.client.get(page)
                if response.status_code != 200 or "html" not in response.content_type:
                    continue
                parser = Forms()
                parser.feed(response.get_data(as_text=True))
                for form in parser.forms:
                    action = urlsplit(form["action"] or page)
                    try:
                        endpoint, _ = adapter.match(action.path, method=form["method"].upper())
                    except Exception:  # noqa: BLE001 - a link elsewhere: not ours to fuzz
                        continue
                    if form["method"] == "get":
                        self.query_names.update(form["fields"])
                    else:
                        self.forms[endpoint].append((dict(form["fields"]), form["types"]))
                for link in re.findall(r'href="([^"]*\?[^"]*)"', response.get_data(as_text=True)):
                    self.query_names.update(k for k, _ in parse_qsl(urlsplit(link).query))

    def fields_of(self, endpoint: str) -> tuple[dict, dict]:
        """Every field any crawled form of ``endpoint`` has, with what they offered."""
        fields, types = defaultdict(set), {}
        for found, kinds in self.forms.get(endpoint, []):
            for name, offered in found.items():
                fields[name] |= offered
            types.update(kinds)
        return dict(fields), types


@pytest.fixture(scope="module")
def station(tmp_path_factory):
    previous = os.environ.get("KEPAI_INSTANCE")
    made = FuzzStation(tmp_path_factory.mktemp("fuzz"))
    yield made
    with made.app.app_context():
        db.session.remove()
        db.engine.dispose()
    if previous is None:
        os.environ.pop("KEPAI_INSTANCE", None)
    else:
        os.environ["KEPAI_INSTANCE"] = previous


def _rules(method: str) -> list[str]:
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    endpoints = sorted({r.endpoint for r in app.url_map.iter_rules()
                        if method in r.methods and r.endpoint not in SKIP})
    return sorted(endpoints, key=lambda e: any(word in e for word in LAST))


def _roles_for(endpoint: str) -> list[str]:
    return list(ROLES) if endpoint.startswith(("visits.", "auth.", "sync", "main.", "clusters.")) \
        else list(STATION_ROLES) + ["fuzz-league"]


POSTS = [(e, r) for e in _rules("POST") for r in _roles_for(e)]
GETS = _rules("GET")


def _check(response, method, url, data=None):
    assert response.status_code < 500, (method, url, data, response.get_data(as_text=True)[:2000])


@pytest.mark.parametrize("endpoint,username", POSTS)
def test_no_post_gets_a_server_error(station, endpoint, username):
    rule = next(r for r in station.app.url_map.iter_rules() if r.endpoint == endpoint)
    fields, types = station.fields_of(endpoint)
    live = station.live()  # the ids as this route starts (a stale one is a 404: fine)

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(draw=st.data())
    def post(draw):
        station.as_user(username)
        url = station.url(rule, draw.draw, live)
        if url is None:
            return
        data = draw.draw(_form_data(fields, types))
        headers = {"HX-Request": "true"} if draw.draw(st.booleans()) else {}
        response = station.client.post(url, data=data, headers=headers,
                                       content_type="multipart/form-data")
        _check(response, "POST", url, {k: (v if not isinstance(v, str) else v[:80])
                                       for k, v in data.items() if not isinstance(v, tuple)})

    post()


@pytest.mark.parametrize("endpoint", GETS)
def test_no_query_gets_a_server_error(station, endpoint):
    rule = next(r for r in station.app.url_map.iter_rules() if r.endpoint == endpoint)
    names = sorted(station.query_names)
    live = station.live()

    @settings(max_examples=max(1, EXAMPLES // 2), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(draw=st.data(), username=st.sampled_from(sorted(ROLES)))
    def get(draw, username):
        station.as_user(username)
        url = station.url(rule, draw.draw, live)
        if url is None:
            return
        query = draw.draw(st.lists(st.tuples(st.sampled_from(names), _junk()), max_size=6))
        response = station.client.get(url, query_string=query)
        _check(response, "GET", url, query)

    get()
