"""This node's identity and the node tree, read from the database.

Node codes follow GB/T 2260 so that the tree is in the code itself:
region ``15``, league ``1501``, station ``150121-01`` (its county's code, a dash and a
two-digit station number). A node sees its own records and its descendants'
(codes that start with its own) and the reference data its ancestors publish.
"""
import re

from flask import g
from sqlalchemy import or_, select

from app.core.extensions import db
from app.models import NodeIdentity

CODE_PATTERNS = {
    "region": re.compile(r"^\d{2}$"),
    "league": re.compile(r"^\d{4}$"),
    "station": re.compile(r"^\d{6}-\d{2}$"),
}


def this_node() -> NodeIdentity | None:
    """This node's identity (cached for the app context), or None before ``node init``."""
    if "node" not in g:
        g.node = db.session.scalar(select(NodeIdentity))
    return g.node


def ancestors(code: str) -> list[str]:
    """The codes above a node: ``150121-01`` → ``["15", "1501"]``."""
    return [code[:n] for n in (2, 4) if len(code) > n]


def subtree(column, code: str):
    """A condition: the column names ``code`` or one of its descendants."""
    return column == code if "-" in code else column.startswith(code)


def visible(column, code: str):
    """A condition: records of ``code``'s subtree, or published by one of its ancestors."""
    return or_(subtree(column, code), column.in_(ancestors(code)))


def valid_code(role: str, code: str) -> bool:
    pattern = CODE_PATTERNS.get(role)
    return bool(pattern and pattern.match(code))
