"""Demo training sessions for ``flask seed-demo``: deterministic (random.Random).

``small``: a few dozen sessions through the ORM (so they get audit and outbox entries),
some with a roster, some with head counts, some planned. ``county``: three years of a
busy county, about 3,000 sessions and 90,000 attendance rows, written by bulk Core
inserts in a minute or so; these skip the audit, outbox and change-log rows (the
lead's "send everything" sync path carries them upstream).
"""
import random
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select

from app.core.demo_names import person_name, phone_number
from app.core.extensions import db
from app.models import Cluster, Commissioner, Place, Station, Training, TrainingAttendee
from app.models.base import new_id
from app.models.training import training_trainers

TOPICS = {
    "玉米": ["玉米密植高产技术", "玉米病虫害绿色防控", "玉米水肥一体化"],
    "肉羊": ["肉羊高效繁育", "羊舍建设与饲养管理", "羔羊早期断奶"],
    "奶业": ["奶牛标准化养殖", "生鲜乳质量安全", "奶牛疫病防控"],
    "马铃薯": ["马铃薯脱毒种薯繁育", "马铃薯晚疫病防治"],
    "饲草": ["优质苜蓿种植", "青贮饲料制作"],
    "肉牛": ["肉牛育肥技术", "母牛繁育管理"],
}
SUFFIX = ["培训班", "技术培训", "现场培训会", "专题讲座"]
CATEGORY_WEIGHTS = {"farmer": 60, "rich_leader": 8, "coop_head": 8, "enterprise_head": 3,
                    "village_secretary": 6, "commissioner": 4, "technician": 8, "other": 3}
ETHNICITIES = (["汉族", "蒙古族", "回族", "满族"], [72, 24, 2, 2])


def _context(code):
    villages = db.session.scalars(select(Place).where(Place.level == "village",
                                                      Place.owner_node == code)).all()
    commissioners = db.session.scalars(select(Commissioner).where(
        Commissioner.owner_node == code, Commissioner.deleted_at.is_(None))).all()
    station = db.session.scalar(select(Station).where(Station.owner_node == code)
                                .order_by(Station.established_on))
    clusters = {c.name: c for c in db.session.scalars(select(Cluster))}
    return villages, commissioners, station, clusters


def _session(rng, today, span_days, villages, commissioners, station, clusters):
    cluster_name = rng.choice(list(TOPICS))
    held_on = today - timedelta(days=rng.randrange(-30, span_days))
    status = "planned" if held_on > today else rng.choices(["held", "cancelled"], [95, 5])[0]
    mode = rng.choices(["offline", "online", "mixed"], [75, 10, 15])[0]
    village = rng.choice(villages) if mode != "online" and villages else None
    return {
        "id": new_id(), "title": rng.choice(TOPICS[cluster_name]) + rng.choice(SUFFIX),
        "held_on": held_on, "hours": rng.choice([1.5, 2, 2, 3, 4, 6, 8]),
        "village_id": village.id if village else None,
        "place_text": "" if village else ("腾讯会议" if mode == "online" else "旗农牧局会议室"),
        "mode": mode, "station_id": station.id if station else None,
        "outside_trainers": rng.choice(["", "", "", "内蒙古农业大学 李教授", "旗农技中心 赵站长"]),
        "cluster_id": clusters[cluster_name].id if cluster_name in clusters else None,
        "content": f"{cluster_name}产业关键技术讲解与现场示范", "trainer_of_trainers": rng.random() < 0.1,
        "status": status, "notes": "", "head_counts": {},
        "women_count": None, "minority_count": None, "poverty_count": None,
    }, rng.sample(commissioners, min(len(commissioners), rng.choice((1, 1, 2))))


def _attendee(rng, training_id, villages):
    village = rng.choice(villages) if villages else None
    return {"id": new_id(), "training_id": training_id, "name": person_name(rng),
            "sex": "female" if rng.random() < 0.38 else "male",
            "ethnicity": rng.choices(*ETHNICITIES)[0],
            "village_id": village.id if village else None, "village_text": "",
            "phone": phone_number(rng) if rng.random() < 0.8 else "",
            "category": rng.choices(list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0],
            "poverty_alleviated": rng.random() < 0.12, "target_id": None}


def _counts(rng) -> dict:
    counts = {c: rng.randrange(0, 6) for c in CATEGORY_WEIGHTS if c != "farmer"}
    counts["farmer"] = rng.randrange(15, 60)
    return {c: n for c, n in counts.items() if n}


def seed(scale: str, code: str) -> dict:
    """Make the demo sessions for node ``code``; returns {"training sessions": n, …}."""
    rng = random.Random(40404)
    villages, commissioners, station, clusters = _context(code)
    today = date.today()
    if scale == "county":
        return _county(rng, today, villages, commissioners, station, clusters, code)
    made = attendance = 0
    for _i in range(30):
        data, trainers = _session(rng, today, 365, villages, commissioners, station, clusters)
        training = Training(**data, owner_node=code, trainers=trainers)
        if training.status == "held":
            if rng.random() < 0.6:
                for _j in range(rng.randrange(8, 30)):
                    row = _attendee(rng, training.id, villages)
                    db.session.add(TrainingAttendee(**row, owner_node=code))
                    attendance += 1
            else:
                training.head_counts = _counts(rng)
                attendance += sum(training.head_counts.values())
        db.session.add(training)
        made += 1
    db.session.commit()
    return {"training sessions": made, "people trained": attendance}


def _county(rng, today, villages, commissioners, station, clusters, code):
    """About 3,000 sessions over three years, 90,000 roster rows: bulk Core inserts."""
    now = datetime.utcnow().replace(microsecond=0)
    stamp = {"version": 1, "owner_node": code, "origin_node": code, "created_at": now,
             "updated_at": now, "created_by": "seed-demo", "updated_by": "seed-demo",
             "field_versions": {}, "deleted_at": None}
    sessions, links, people = [], [], []
    for _i in range(3000):
        data, trainers = _session(rng, today, 3 * 365, villages, commissioners, station, clusters)
        sessions.append({**data, **stamp})
        links += [{"training_id": data["id"], "commissioner_id": c.id} for c in trainers]
        if data["status"] != "held":
            continue
        if rng.random() < 0.1:  # no roster kept: head counts instead
            data["head_counts"] = _counts(rng)
            continue
        for _j in range(rng.randrange(24, 49)):
            people.append({**_attendee(rng, data["id"], villages), **stamp})
    for chunk in range(0, len(sessions), 1000):
        db.session.execute(insert(Training), sessions[chunk:chunk + 1000])
    if links:
        db.session.execute(insert(training_trainers), links)
    for chunk in range(0, len(people), 5000):
        db.session.execute(insert(TrainingAttendee), people[chunk:chunk + 5000])
    db.session.commit()
    return {"training sessions": len(sessions), "training attendance rows": len(people)}
