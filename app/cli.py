"""Command-line tools: ``flask node init``, ``flask users create``, ``flask seed-demo``.

Wrong arguments end with a one-line reason and exit status 2 (click's usage errors)."""
import re
import sys

import click
from flask import current_app, g
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from app.core import choices
from app.core.database import analyze
from app.core.extensions import db
from app.core.i18n import force_locale
from app.core.node import this_node, valid_code
from app.models import User
from app.setup import initialise

node_cli = AppGroup("node", help="This node's identity.")
users_cli = AppGroup("users", help="User accounts.")


@node_cli.command("init")
@click.option("--role", required=True, type=click.Choice(list(choices.NODE_ROLES)))
@click.option("--code", required=True, help="region: 15; league: 1501; station: 150121-01")
@click.option("--name", required=True)
def node_init(role, code, name):
    """Set this node's role, code and name, and load the shipped reference data."""
    if not valid_code(role, code):
        raise click.BadParameter(
            "a region code has 2 digits (15), a league 4 (1501), a station its county's "
            "6 digits, a dash and 2 digits (150121-01)", param_hint="--code")
    from app.places.services import county_exists
    if role == "station" and not county_exists(code[:6]):
        raise click.BadParameter(f"{code[:6]} is not an Inner Mongolia county code", param_hint="--code")
    if not name.strip():
        raise click.BadParameter("the name is empty", param_hint="--name")
    existing = this_node()
    if existing and (existing.code != code or existing.role != role):
        raise click.UsageError(
            f"this node is already {existing.role} {existing.code}; its identity does not change")
    g.actor = "node-init"
    initialise(role, code, name.strip())
    click.echo(f"node {role} {code} {name.strip()}: ready")


@node_cli.command("load-shipped")
def node_load_shipped():
    """Load the reference data shipped with this version (places, clusters, plan targets,
    assessment schemes) into this node: safe to repeat; run after an upgrade (make serve
    and make run do)."""
    try:
        node = this_node()
    except SQLAlchemyError:
        db.session.rollback()
        raise click.UsageError("the database has no tables yet: run `flask db upgrade` first") from None
    if node is None:
        click.echo("this node is not set up yet: nothing to load (run `flask node init`)")
        return
    g.actor = "node-init"
    initialise(node.role, node.code, node.name)
    click.echo(f"node {node.role} {node.code}: shipped reference data loaded")


@users_cli.command("create")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(list(choices.ROLES)))
@click.option("--name", "display_name", default="")
@click.option("--commissioner", "commissioner_id", default=None, help="commissioner record id")
def users_create(username, role, display_name, commissioner_id):
    """Create an account; the password is asked for, or read from stdin when piped."""
    from app.auth.services import USERNAME_PATTERN, create_user, password_problem, username_taken
    node = this_node()
    if node is None:
        raise click.UsageError("this node is not set up: run `flask node init` first")
    if not re.match(USERNAME_PATTERN, username):
        raise click.BadParameter("3 to 40 letters, digits, dots, dashes or underscores",
                                 param_hint="--username")
    if username_taken(username):
        raise click.BadParameter(f"{username} is taken", param_hint="--username")
    if role == "commissioner" and not commissioner_id:
        raise click.BadParameter("a commissioner account needs --commissioner ID",
                                 param_hint="--commissioner")
    if commissioner_id and not _commissioner_here(commissioner_id, node.code):
        raise click.BadParameter(f"no commissioner {commissioner_id} on this node",
                                 param_hint="--commissioner")
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    g.actor = "cli"  # also makes g non-empty, which Flask-Babel needs to translate at all
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # no request, no session
        problem = password_problem(password)                         # language: the default
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    create_user(username=username, password=password, role=role, node_code=node.code,
                display_name=display_name, commissioner_id=commissioner_id)
    click.echo(f"user {username.lower()} ({role}) created")


def _commissioner_here(commissioner_id: str, node_code: str) -> bool:
    """A live commissioner record this node can see (the users page offers the same)."""
    from app.core.node import visible
    from app.models import Commissioner
    return db.session.scalar(select(Commissioner.id).where(
        Commissioner.id == commissioner_id, Commissioner.deleted_at.is_(None),
        visible(Commissioner.owner_node, node_code))) is not None


@click.command("seed-demo")
@with_appcontext
@click.option("--scale", type=click.Choice(["small", "county"]), default="small",
              help="small: a station to try things on; county: three years of a busy county")
@click.option("--if-empty", is_flag=True, help="do nothing when the database has users")
def seed_demo(scale, if_empty):
    """Make a realistic demo station with accounts demo-admin, demo-staff and
    demo-commissioner (password kepai-demo-1)."""
    from app.demo import seed
    if if_empty and db.session.scalar(select(User.id).limit(1)) is not None:
        click.echo("database has users: demo data not added")
        return
    node = this_node()
    if node is not None and node.role != "station":
        raise click.UsageError(f"demo data is for a station; this node is a {node.role}")
    g.actor = "seed-demo"
    summary = seed(scale)
    with db.engine.begin() as connection:
        analyze(connection)
    click.echo("demo data: " + ", ".join(f"{k} {v}" for k, v in summary.items()))


def register_commands(app):
    app.cli.add_command(node_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo)
