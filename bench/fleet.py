"""A station as the sync benchmarks start it, made inside its app context by their
subprocess programs (bench/sync.py's FLEET_SEED, bench/slow_link.py's DAY).

``synced_yesterday`` makes what the station synced before the measured day (a township
with four villages, the station, five commissioners, twelve service targets), syncs it
to its league, and returns what the day's records are drawn from; ``todays_visits``
adds the day's visits (left in the outbox). Content is fixed by the node's code; ids
and operation ids are new each time.
"""
import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.core.demo_names import person_name, phone_number
from app.core.extensions import db
from app.models import Cluster, Commissioner, Place, ServiceTarget, Station, Visit
from app.places.services import county_of_node
from app.sync import client
from app.visits.demo import _PLAIN, _Planner


@dataclass
class Yesterday:
    rng: random.Random
    station: Station
    people: list
    villages: list
    clusters: dict  # name: Cluster
    planner: _Planner  # draws a visit's commissioners, targets, village and content
    synced: object  # the first sync's result (client.sync_once)


def synced_yesterday(code: str, league_url: str, token: str) -> Yesterday:
    rng = random.Random(code)
    county = county_of_node(code)
    clusters = db.session.scalars(select(Cluster).order_by(Cluster.sort_order)).all()
    township = Place(name=f"{code[-2:]}号镇", level="township", parent_id=county.id, owner_node=code)
    db.session.add(township)
    db.session.flush()
    villages = [Place(name=f"{code[-2:]}号镇{i}村", level="village", parent_id=township.id,
                      owner_node=code) for i in range(1, 5)]
    station = Station(name=f"{county.name}{code[-2:]}号工作站", kind="grassroots",
                      host_org=f"{county.name}农牧业技术推广中心", host_org_type="extension",
                      county_id=county.id, established_on=date(2022, 3, 1), owner_node=code,
                      clusters=rng.sample(clusters, 3))
    db.session.add_all(villages + [station])
    db.session.flush()
    people = [Commissioner(name=person_name(rng), kind="individual", sex=rng.choice(["male", "female"]),
                           ethnicity=rng.choice(["汉族", "蒙古族"]), level="county",
                           sending_org="内蒙古农业大学", sending_org_type="university",
                           specialty="肉羊繁育", phone=phone_number(rng), station_id=station.id,
                           status="dispatched", recognised_on=date(2024, 3, 1),
                           dispatched_on=date(2024, 4, 1), owner_node=code,
                           clusters=rng.sample(clusters, 1), villages=rng.sample(villages, 2))
              for _ in range(5)]
    targets = [ServiceTarget(name=person_name(rng), kind="household", village_id=rng.choice(villages).id,
                             contact_name=person_name(rng), phone=phone_number(rng), owner_node=code)
               for _ in range(12)]
    db.session.add_all(people + targets)
    db.session.commit()
    client.set_upstream(league_url, token)
    synced = client.sync_once("bench")
    by_village = {}
    for target in targets:
        by_village.setdefault(target.village_id, []).append(target)
    by_name = {c.name: c for c in clusters}
    planner = _Planner(rng, people, [1.0] * len(people), villages, by_village, by_name, [station])
    return Yesterday(rng, station, people, villages, by_name, planner, synced)


def todays_visits(base: Yesterday, code: str, count: int) -> list[Visit]:
    """``count`` visits of today and yesterday, numbered from 1, added to the session."""
    today = date.today()
    visits = []
    for sequence in range(1, count + 1):
        d = base.planner.draw()
        d.update(day=today - timedelta(days=base.rng.randrange(0, 2)), review_state="",
                 follow_up=False, follow_up_on=None)
        visits.append(Visit(number=f"{code}-{today.year}-{sequence:05d}", year=today.year,
                            sequence=sequence, visited_on=d["day"], commissioners=d["team"],
                            targets=d["targets"], village_id=d["village"].id,
                            cluster_id=d["cluster"].id if d["cluster"] else None,
                            station_id=base.station.id, owner_node=code,
                            **{k: d[k] for k in _PLAIN}))
    db.session.add_all(visits)
    return visits
