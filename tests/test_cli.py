"""The command line: ``flask node init`` and ``flask users create``. Wrong arguments end
with a one-line reason and exit status 2; nothing is written."""
import pytest
from sqlalchemy import delete, func, select

from app.auth.services import password_matches
from app.core.extensions import db
from app.models import Commissioner, NodeIdentity, Place, User
from tests.factories import count
from tests.settings import PASSWORD


@pytest.fixture
def bare(app):
    """The test database emptied: a node that has not been initialised yet."""
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()
    return app


def _reason(result) -> str:
    """The one line that says what was wrong (click prints usage lines above it)."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error:"), result.output
    return lines[-1]


def _node(app):
    with app.app_context():
        return db.session.scalar(select(NodeIdentity))


@pytest.mark.parametrize("args,word", [
    (["--role", "county", "--code", "150121-01"], "--role"),
    (["--role", "station", "--code", "150121"], "--code"),
    (["--role", "station", "--code", "1501-01"], "--code"),
    (["--role", "station", "--code", "110101-01"], "110101"),  # not an Inner Mongolia county
    (["--role", "league", "--code", "150121-01"], "--code"),
    (["--role", "region", "--code", "1501"], "--code"),
    (["--role", "station", "--code", "150121-01", "--name", "  "], "--name"),
    (["--role", "station"], "--code"),
])
def test_node_init_refuses_bad_arguments(bare, args, word):
    if "--name" not in args:
        args = args + ["--name", "土左旗工作站"]
    result = bare.test_cli_runner().invoke(args=["node", "init", *args])
    assert word in _reason(result)
    assert _node(bare) is None


def test_node_init_stores_role_and_code_and_loads_places(bare):
    runner = bare.test_cli_runner()
    result = runner.invoke(args=["node", "init", "--role", "station", "--code", "150121-01",
                                 "--name", "土左旗科技特派员工作站"])
    assert result.exit_code == 0, result.output
    node = _node(bare)
    assert (node.role, node.code, node.name) == ("station", "150121-01", "土左旗科技特派员工作站")
    with bare.app_context():
        assert db.session.scalar(select(func.count()).select_from(Place)) > 100
    assert bare.test_client().get("/healthz").get_json()["code"] == "150121-01"

    # the same identity again renames; another identity is refused
    result = runner.invoke(args=["node", "init", "--role", "station", "--code", "150121-01",
                                 "--name", "新名字"])
    assert result.exit_code == 0 and _node(bare).name == "新名字"
    for role, code in (("station", "150122-01"), ("league", "1501")):
        result = runner.invoke(args=["node", "init", "--role", role, "--code", code,
                                     "--name", "别的"])
        assert "already station 150121-01" in _reason(result)
    assert (_node(bare).code, _node(bare).name) == ("150121-01", "新名字")


def test_users_create_reads_the_password_from_stdin(app, runner):
    result = runner.invoke(args=["users", "create", "--username", "Clerk", "--role",
                                 "station_staff", "--name", "小李"], input="long-enough-1\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "clerk"))
        assert (user.role, user.node_code, user.display_name) == \
            ("station_staff", "150121-01", "小李")
        assert password_matches(user, "long-enough-1")
    assert app.test_client().post("/login", data={"username": "clerk",
                                                  "password": "long-enough-1"}).status_code == 302


@pytest.mark.parametrize("args,stdin,word", [
    (["--username", "staff", "--role", "station_staff"], PASSWORD, "taken"),
    (["--username", "STAFF", "--role", "station_staff"], PASSWORD, "taken"),
    (["--username", "newbie", "--role", "station_staff"], "short", "至少需要 10 个字符"),
    (["--username", "newbie", "--role", "station_staff"], "", "至少需要 10 个字符"),
    (["--username", "newbie", "--role", "station_staff"], "123456789", "至少需要 10 个字符"),
    (["--username", "newbie", "--role", "station_staff"], "QwertyUiop", "最常用的密码"),
    (["--username", "newbie", "--role", "station_staff"], "woaini1314", "最常用的密码"),
    (["--username", "newbie", "--role", "janitor"], PASSWORD, "--role"),
    (["--username", "王 五", "--role", "station_staff"], PASSWORD, "--username"),
    (["--username", "x" * 41, "--role", "station_staff"], PASSWORD, "--username"),
    (["--username", "newbie", "--role", "commissioner"], PASSWORD, "--commissioner"),
    (["--username", "newbie", "--role", "commissioner", "--commissioner", "no-such-id"],
     PASSWORD, "--commissioner"),
    (["--role", "station_staff"], PASSWORD, "--username"),
])
def test_users_create_refuses_bad_arguments(app, runner, args, stdin, word):
    before = count(app, User)
    result = runner.invoke(args=["users", "create", *args], input=stdin + "\n")
    assert word in _reason(result)
    assert count(app, User) == before


def test_users_create_links_a_commissioner_of_this_node(app, runner):
    with app.app_context():
        mine = Commissioner(name="王建国", owner_node="150121-01")
        theirs = Commissioner(name="外旗专家", owner_node="150122-01")
        db.session.add_all([mine, theirs])
        db.session.commit()
        mine_id, theirs_id = mine.id, theirs.id
    result = runner.invoke(args=["users", "create", "--username", "wang", "--role",
                                 "commissioner", "--commissioner", theirs_id],
                           input=PASSWORD + "\n")
    assert "--commissioner" in _reason(result)
    result = runner.invoke(args=["users", "create", "--username", "wang", "--role",
                                 "commissioner", "--commissioner", mine_id],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.commissioner_id).where(User.username == "wang")) \
            == mine_id


def test_users_create_needs_an_initialised_node(bare):
    result = bare.test_cli_runner().invoke(
        args=["users", "create", "--username", "first", "--role", "station_admin"],
        input=PASSWORD + "\n")
    assert "node init" in _reason(result)


def test_load_shipped_brings_what_an_upgraded_node_lacks(app):
    """A node set up by an older version has no plan targets or schemes: after the
    upgrade, ``flask node load-shipped`` adds them, keeps the node, and can be repeated."""
    from app.models import AssessmentScheme, PlanTarget
    with app.app_context():
        db.session.execute(delete(PlanTarget))
        db.session.execute(delete(AssessmentScheme))
        db.session.commit()
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["node", "load-shipped"])
        assert result.exit_code == 0, result.output
        assert count(app, PlanTarget) == 5 and count(app, AssessmentScheme) >= 2
    assert _node(app).code == "150121-01"


def test_load_shipped_on_a_node_not_set_up_says_so(bare):
    result = bare.test_cli_runner().invoke(args=["node", "load-shipped"])
    assert result.exit_code == 0 and "not set up" in result.output
    assert _node(bare) is None
