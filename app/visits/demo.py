"""Demo field visits for ``flask seed-demo`` (deterministic: ``random.Random``).

Scale "small": a few dozen visits through the ORM, so they have audit and outbox
entries like visits entered by hand. Scale "county": three years of a busy county,
60,000 visits, written with bulk Core inserts in about a minute: id, version 1, owner and
origin node, stamps and empty field versions are set here, and **no audit, outbox or
change-log rows are written** for them (sync has a "send everything" path for that).
The search index follows through its triggers.
"""
import random
import uuid
from datetime import date, datetime, time, timedelta

from flask import g
from sqlalchemy import insert, select

from app.core.extensions import db
from app.models import Cluster, Commissioner, Place, ServiceTarget, Station, Visit, utcnow
from app.models.visit import visit_commissioners, visit_targets

COUNTY_VISITS = 60_000
SMALL_VISITS = 40
# How busy each month is (spring sowing, summer management, autumn harvest, lambing).
MONTH_WEIGHTS = [5, 6, 9, 12, 12, 10, 9, 9, 11, 10, 5, 3]

TOPICS = {  # cluster: [(problem, action, result)]
    "奶业": [("奶牛乳房炎发病率高", "指导挤奶卫生消毒和药浴", "乳房炎发病率明显下降"),
           ("产奶量下降，日粮配比不合理", "调整全混合日粮配方，增加优质苜蓿", "单产提高约两公斤"),
           ("犊牛腹泻", "讲解初乳饲喂与犊牛岛管理", "犊牛成活率提高")],
    "玉米": [("玉米螟虫害严重", "推广赤眼蜂生物防治和Bt制剂", "虫害得到控制"),
           ("玉米出苗不齐", "指导精量播种和种子包衣", "出苗整齐度提高"),
           ("秸秆处理难", "示范秸秆黄贮和还田技术", "秸秆综合利用率提高")],
    "肉羊": [("母羊产后瘫痪，食欲不振", "补充钙剂并调整日粮", "母羊恢复站立采食"),
           ("羔羊成活率低", "指导冬季棚圈保温和羔羊补饲", "羔羊成活率提高"),
           ("羊群口蹄疫免疫不规范", "制定免疫程序并现场示范注射", "免疫密度达到要求")],
    "肉牛": [("育肥牛增重慢", "推广分阶段育肥日粮", "日增重提高"),
           ("牛舍通风差", "指导牛舍改造", "呼吸道疾病减少")],
    "马铃薯": [("马铃薯晚疫病发生", "指导喷施保护性杀菌剂", "病情得到遏制"),
             ("种薯退化", "推广脱毒种薯", "亩产提高")],
    "饲草": [("苜蓿越冬率低", "指导入冬前灌溉和刈割时间", "返青率提高"),
           ("青贮品质差", "讲解青贮窖压实与密封", "青贮质量提高")],
    "向日葵": [("向日葵菌核病", "推广轮作和药剂拌种", "发病率下降")],
    "蔬菜": [("设施蔬菜连作障碍", "指导土壤消毒和水肥一体化", "长势恢复")],
}
GENERIC = [("合作社想扩大种植规模", "讲解产业政策和项目申报", "形成发展计划"),
           ("农产品销路不畅", "对接收购企业和电商平台", "签订销售意向")]
TECHNOLOGIES = ["测土配方施肥", "水肥一体化", "全混合日粮", "秸秆黄贮", "生物防治", "节水灌溉"]
VARIETIES = ["西蒙塔尔牛", "杜泊羊", "京科968", "希森6号", "中草3号苜蓿"]


def seed_visits(scale: str, node_code: str, demo_commissioner_id: str | None = None) -> int:
    """Make the demo visits of ``scale``; returns how many."""
    rng = random.Random(f"visits-{scale}")
    commissioners = db.session.scalars(select(Commissioner).where(
        Commissioner.owner_node == node_code).order_by(Commissioner.name, Commissioner.id)).all()
    villages = db.session.scalars(select(Place).where(
        Place.owner_node == node_code, Place.level == "village").order_by(Place.name)).all()
    targets = db.session.scalars(select(ServiceTarget).where(
        ServiceTarget.owner_node == node_code).order_by(ServiceTarget.name, ServiceTarget.id)).all()
    clusters = {c.name: c for c in db.session.scalars(select(Cluster))}
    stations = db.session.scalars(select(Station).where(Station.owner_node == node_code)).all()
    if not commissioners or not villages:
        return 0
    targets_by_village = {}
    for t in targets:
        targets_by_village.setdefault(t.village_id, []).append(t)
    # Some commissioners work much more than others (at most six times the least busy);
    # the demo commissioner is among the busiest.
    activity = [min(rng.paretovariate(1.5), 6.0) for _ in commissioners]
    if demo_commissioner_id:
        for i, c in enumerate(commissioners):
            if c.id == demo_commissioner_id:
                activity[i] = 6.0
    planner = _Planner(rng, commissioners, activity, villages, targets_by_village, clusters,
                       stations)
    if scale == "county":
        return _bulk(planner, node_code, COUNTY_VISITS)
    mine = next((c for c in commissioners if c.id == demo_commissioner_id), None)
    return _orm(planner, node_code, SMALL_VISITS, planner.recent_work(mine) if mine else [])


class _Planner:
    """Draws one plausible visit at a time."""

    def __init__(self, rng, commissioners, activity, villages, targets_by_village, clusters,
                 stations):
        self.rng, self.commissioners, self.activity = rng, commissioners, activity
        self.villages, self.targets_by_village = villages, targets_by_village
        self.clusters, self.stations = clusters, stations
        self.today = date.today()
        self.days = [self.today - timedelta(days=n) for n in range(3 * 365)]
        self.day_weights = [MONTH_WEIGHTS[d.month - 1] for d in self.days]

    def recent_work(self, commissioner) -> list[dict]:
        """The demo commissioner's last weeks, so that their home page has something to
        show: a visit yesterday, one with a follow-up due in three days, one overdue."""
        plans = ((1, None), (6, self.today + timedelta(days=3)), (20, self.today - timedelta(days=2)))
        visits = []
        for days_ago, follow_up_on in plans:
            visit = self.draw()
            visit.update(team=[commissioner], day=self.today - timedelta(days=days_ago),
                         follow_up=follow_up_on is not None, follow_up_on=follow_up_on,
                         review_state="")
            visits.append(visit)
        return visits

    def draw(self) -> dict:
        rng = self.rng
        lead = rng.choices(self.commissioners, self.activity)[0]
        team = [lead] + ([rng.choice(self.commissioners)] if rng.random() < 0.25 else [])
        team = list({c.id: c for c in team}.values())
        own_villages = [v for v in lead.villages] or self.villages
        village = rng.choice(own_villages) if rng.random() < 0.85 else rng.choice(self.villages)
        nearby = self.targets_by_village.get(village.id, [])
        chosen = rng.sample(nearby, min(len(nearby), rng.choice((0, 1, 1, 1, 2)))) if nearby else []
        cluster = (rng.choice(lead.clusters) if lead.clusters else
                   self.clusters.get(rng.choice(list(TOPICS))))
        topics = TOPICS.get(cluster.name if cluster else "", GENERIC)
        problem, action, result = rng.choice(topics if rng.random() < 0.9 else GENERIC)
        day = rng.choices(self.days, self.day_weights)[0]
        mode = rng.choices(["onsite", "online", "hotline"], [80, 12, 8])[0]
        start_hour = rng.choice((8, 9, 9, 10, 14, 15))
        length = rng.choice((1, 1.5, 2, 2, 3, 4))
        end_minutes = int(start_hour * 60 + length * 60)
        lat = 40.55 + rng.random() * 0.5 if mode == "onsite" and rng.random() < 0.6 else None
        tech = rng.sample(TECHNOLOGIES, rng.choice((0, 0, 1, 2)))
        varieties = rng.sample(VARIETIES, rng.choice((0, 0, 0, 1)))
        follow_up = rng.random() < 0.2
        return {
            "team": team, "targets": chosen, "village": village, "cluster": cluster, "day": day,
            "start_time": f"{start_hour:02d}:00", "end_time": f"{end_minutes // 60:02d}:{end_minutes % 60:02d}",
            "hours": length, "station": lead.station_id or (self.stations[0].id if self.stations else None),
            "location": rng.choice(["", "", "养殖场", "田间地头", "合作社", "村委会"]),
            "latitude": round(lat, 5) if lat else None,
            "longitude": round(110.7 + rng.random() * 0.9, 5) if lat else None,
            "stage": "pre" if day.month in (3, 4, 5) else ("post" if day.month in (9, 10, 11) else "during"),
            "service_types": " ".join(rng.sample(["guidance", "promotion", "transfer", "consulting",
                                                  "market", "demo_base", "policy", "other"],
                                                 rng.choice((1, 1, 2)))),
            "mode": mode, "problem": f"{village.name}{problem}", "action": action, "result": result,
            "technologies": "、".join(tech), "technology_count": len(tech),
            "varieties": "、".join(varieties), "variety_count": len(varieties),
            "people_reached": rng.choice((1, 2, 3, 5, 8, 12, 20)),
            "follow_up": follow_up,
            "follow_up_on": min(self.today, day + timedelta(days=rng.randrange(7, 60))) if follow_up else None,
            "review_state": rng.choices(["", "received", "approved", "has_issues"], [40, 25, 30, 5])[0]
            if day < self.today - timedelta(days=30) else "",
        }


def _orm(planner: _Planner, node_code: str, count: int, extra: list = ()) -> int:
    """A few dozen visits through the ORM (audited and in the outbox), with ``extra``
    drawn visits added."""
    g.actor = "seed-demo"
    drawn = sorted([planner.draw() for _ in range(count)] + list(extra), key=lambda d: d["day"])
    sequences = {}
    for d in drawn:
        year = d["day"].year
        sequences[year] = sequences.get(year, 0) + 1
        db.session.add(Visit(
            number=f"{node_code}-{year}-{sequences[year]:05d}", year=year, sequence=sequences[year],
            visited_on=d["day"], commissioners=d["team"], targets=d["targets"],
            village_id=d["village"].id, cluster_id=d["cluster"].id if d["cluster"] else None,
            station_id=d["station"], owner_node=node_code,
            **{k: d[k] for k in _PLAIN}))
    db.session.commit()
    return len(drawn)


_PLAIN = ("start_time", "end_time", "hours", "location", "latitude", "longitude", "stage",
          "service_types", "mode", "problem", "action", "result", "technologies",
          "technology_count", "varieties", "variety_count", "people_reached", "follow_up",
          "follow_up_on", "review_state")


def _bulk(planner: _Planner, node_code: str, count: int, batch: int = 5000) -> int:
    """``count`` visits with bulk Core inserts: no audit, outbox or change-log rows."""
    drawn = sorted((planner.draw() for _ in range(count)), key=lambda d: d["day"])
    sequences = {}
    start = db.session.scalar(select(Visit.sequence).where(Visit.owner_node == node_code)
                              .order_by(Visit.sequence.desc()).limit(1)) or 0
    now = utcnow().replace(microsecond=0)
    ids = random.Random(f"visit-ids-{node_code}")  # each station its own ids (a league holds several)
    for offset in range(0, len(drawn), batch):
        visits, links, target_links = [], [], []
        for d in drawn[offset:offset + batch]:
            year = d["day"].year
            sequences[year] = sequences.get(year, start) + 1
            visit_id = str(uuid.UUID(int=ids.getrandbits(128), version=4))
            stamp = datetime.combine(d["day"], time(18, 0)) if d["day"] < now.date() else now
            visits.append({
                "id": visit_id, "version": 1, "owner_node": node_code, "origin_node": node_code,
                "created_at": stamp, "updated_at": stamp, "created_by": "seed-demo",
                "updated_by": "seed-demo", "field_versions": {}, "deleted_at": None,
                "number": f"{node_code}-{year}-{sequences[year]:05d}", "year": year,
                "sequence": sequences[year], "visited_on": d["day"],
                "village_id": d["village"].id, "station_id": d["station"],
                "cluster_id": d["cluster"].id if d["cluster"] else None,
                "review_comment": "" if d["review_state"] != "has_issues" else "请补充现场照片",
                "reviewed_at": stamp + timedelta(days=20) if d["review_state"] else None,
                **{k: d[k] for k in _PLAIN}})
            links += [{"visit_id": visit_id, "commissioner_id": c.id} for c in d["team"]]
            target_links += [{"visit_id": visit_id, "target_id": t.id} for t in d["targets"]]
        db.session.execute(insert(Visit.__table__), visits)
        db.session.execute(insert(visit_commissioners), links)
        if target_links:
            db.session.execute(insert(visit_targets), target_links)
    db.session.commit()
    return count
