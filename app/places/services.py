"""Places: the GB/T 2260 tree shipped as data (app/data/gbt2260_15.csv), and the
townships and villages each station adds under its county."""
import csv
import os

from sqlalchemy import select

from app.extensions import db
from app.models import Place
from app.models.shipped import REGION_CODE, shipped_id

DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "gbt2260_15.csv")


def shipped_rows() -> list[dict]:
    with open(DATA, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def county_exists(code: str) -> bool:
    return any(r["code"] == code and r["level"] == "county" for r in shipped_rows())


def load_shipped_places() -> int:
    """Insert or refresh the region, leagues and counties; returns how many changed."""
    existing = {p.id: p for p in db.session.scalars(
        select(Place).where(Place.level.in_(("region", "league", "county"))))}
    changed = 0
    for row in shipped_rows():
        place_id = shipped_id("place", row["code"])
        parent_id = shipped_id("place", row["parent_code"]) if row["parent_code"] else None
        place = existing.get(place_id)
        if place is None:
            db.session.add(Place(id=place_id, code=row["code"], name=row["name"],
                                 level=row["level"], parent_id=parent_id,
                                 owner_node=REGION_CODE, origin_node=REGION_CODE))
            db.session.flush()
            changed += 1
        elif (place.name, place.parent_id) != (row["name"], parent_id):
            place.name, place.parent_id = row["name"], parent_id
            changed += 1
    return changed


def county_of_node(node_code: str) -> Place | None:
    """The county a station node sits in (from the first six digits of its code)."""
    if "-" not in node_code:
        return None
    return db.session.get(Place, shipped_id("place", node_code[:6]))
