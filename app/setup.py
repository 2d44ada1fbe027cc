"""Setting a node up: its identity and the reference data shipped with the program
(the places of Inner Mongolia, the industry clusters, the action plan's targets, the
assessment schemes). It sits above the areas whose
data it loads, so that the core (app/core/node.py) imports no area."""
from flask import g

from app.assessments.services import load_shipped_schemes
from app.clusters.services import load_shipped_clusters
from app.core.extensions import db
from app.core.history import shipped_data
from app.core.node import this_node
from app.goals.services import load_shipped_goals
from app.models import NodeIdentity
from app.places.services import load_shipped_places


def initialise(role: str, code: str, name: str) -> NodeIdentity:
    """Record this node's identity (or rename it) and load the shipped reference data,
    in one commit. The caller has checked the code (``valid_code``)."""
    node = this_node()
    if node is None:
        node = NodeIdentity(role=role, code=code, name=name)
        db.session.add(node)
    node.name = name
    db.session.flush()
    g.node = node
    with shipped_data(db.session):
        load_shipped_places()
        load_shipped_clusters()
        load_shipped_goals()
        load_shipped_schemes()
        db.session.commit()
    return node
