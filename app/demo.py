"""Demo data: a realistic station to try things on (``flask seed-demo``).

The station is the grassroots workstation of 土默特左旗 (Tumed Left Banner, county code
150121) in Hohhot, with its real townships and plausible villages, the region's
industry clusters, commissioners with Chinese names, service targets, sites and teams,
and three accounts: demo-admin, demo-staff and demo-commissioner (password kepai-demo-1).

``scale="county"`` makes three years of a busy county (about 150 commissioners); the
issues for visits, trainings and agreements extend it with their own records.

``code`` makes the same records for another station (``150122-01``, its county's
name on the workstation) into this database, without accounts: a league's copy of
several counties, as a benchmark builds one (bench/reports.py).
"""
import random
from datetime import date, timedelta

from sqlalchemy import select

from app.agreements.demo import seed_agreements
from app.auth.services import create_user
from app.core.demo_names import person_name, phone_number
from app.core.extensions import db
from app.core.node import this_node
from app.models import Cluster, Commissioner, Place, ServiceTarget, ServiceTeam, Site, Station, User
from app.places.services import county_of_node
from app.setup import initialise
from app.web.forms import ID_CHECK, ID_WEIGHTS

DEMO_CODE = "150121-01"
DEMO_NAME = "土默特左旗科技特派员工作站"
DEMO_PASSWORD = "kepai-demo-1"

TOWNSHIPS = {
    "察素齐镇": ["讨思浩村", "把什村", "西沟门村", "北只图村", "陶思浩村"],
    "毕克齐镇": ["腮忽洞村", "代州营村", "水磨村", "毕克齐村"],
    "善岱镇": ["古雁村", "双龙村", "西地村", "小一间房村"],
    "台阁牧镇": ["台阁牧村", "北宿亥村", "朱尔沟村", "麻家营村"],
    "白庙子镇": ["白庙子村", "格图营村", "大岱村"],
    "北什轴乡": ["北什轴村", "西达赖营村", "东达赖营村"],
    "塔布赛乡": ["塔布赛村", "三两村", "大古城村"],
}
ORGS = [("内蒙古农业大学", "university"), ("内蒙古农牧业科学院", "institute"),
        ("呼和浩特市农牧技术推广中心", "extension"), ("土默特左旗农牧业技术推广中心", "extension"),
        ("内蒙古大学", "university"), ("蒙牛乳业（集团）股份有限公司", "enterprise"),
        ("内蒙古蒙草生态环境（集团）股份有限公司", "enterprise"), ("", "local_talent")]
SPECIALTIES = ["奶牛养殖", "肉羊繁育", "玉米栽培", "马铃薯脱毒种薯", "饲草种植", "设施蔬菜",
               "动物疫病防控", "农产品加工", "土壤改良", "节水灌溉", "向日葵栽培", "肉牛育肥"]
TITLES = ["教授", "研究员", "副教授", "高级农艺师", "高级畜牧师", "农艺师", "畜牧师", ""]
TARGET_SUFFIX = {"coop": "种养殖专业合作社", "enterprise": "农牧业有限公司",
                 "family_farm": "家庭农场", "village_collective": "村集体经济合作社"}


def _id_number(rng: random.Random, born: date, female: bool) -> str:
    body = "150121" + born.strftime("%Y%m%d") + f"{rng.randrange(100):02d}"
    body += str(rng.randrange(0, 10, 2) + (0 if female else 1))
    return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS, strict=False)) % 11]


def seed(scale: str = "small", code: str | None = None) -> dict:
    """Make the demo station (or the station ``code``'s records); returns what was
    made, by kind."""
    rng = random.Random(150121)
    sizes = {"small": (24, 80), "county": (150, 900)}[scale]
    node = this_node() or initialise("station", DEMO_CODE, DEMO_NAME)
    code = code or node.code
    county = county_of_node(code)
    station_name = DEMO_NAME if code == DEMO_CODE or county is None else f"{county.name}科技特派员工作站"
    clusters = db.session.scalars(select(Cluster).order_by(Cluster.sort_order)).all()
    by_name = {c.name: c for c in clusters}

    villages = []
    for township_name, village_names in TOWNSHIPS.items():
        township = Place(name=township_name, level="township", parent_id=county.id if county else None,
                         owner_node=code)
        db.session.add(township)
        db.session.flush()
        for village_name in village_names:
            village = Place(name=village_name, level="village", parent_id=township.id, owner_node=code)
            db.session.add(village)
            villages.append(village)
    db.session.flush()

    home = Station(name=station_name, kind="grassroots", host_org="土默特左旗农牧业技术推广中心",
                   host_org_type="extension", county_id=county.id if county else None,
                   address="呼和浩特市土默特左旗察素齐镇", contact_name="高志强",
                   contact_phone=phone_number(rng), established_on=date(2021, 6, 18), owner_node=code,
                   clusters=[by_name[n] for n in ("玉米", "肉羊", "奶业", "马铃薯")])
    expert = Station(name="内蒙古农业大学土左旗专家工作站", kind="expert", host_org="内蒙古农业大学",
                     host_org_type="university", county_id=county.id if county else None,
                     address="土默特左旗毕克齐镇", established_on=date(2022, 4, 9), owner_node=code,
                     clusters=[by_name[n] for n in ("奶业", "饲草")])
    db.session.add_all([home, expert])
    db.session.flush()
    sites = [
        Site(station_id=home.id, name="察素齐乡村振兴综合试验站", kind="trial_station",
             village_id=villages[0].id, cluster_id=by_name["玉米"].id, owner_node=code),
        Site(station_id=home.id, name="善岱肉羊特色产业基地", kind="industry_base",
             village_id=villages[9].id, cluster_id=by_name["肉羊"].id, owner_node=code),
        Site(station_id=expert.id, name="毕克齐奶业科技服务点", kind="service_point",
             village_id=villages[6].id, cluster_id=by_name["奶业"].id, owner_node=code),
    ]
    db.session.add_all(sites)

    commissioners = []
    today = date.today()
    for i in range(sizes[0]):
        org, org_type = rng.choice(ORGS)
        female = rng.random() < 0.35
        born = date(rng.randrange(1962, 1998), rng.randrange(1, 13), rng.randrange(1, 29))
        recognised = today - timedelta(days=rng.randrange(200, 1500))
        status = rng.choices(["dispatched", "recognised", "exited"], [80, 12, 8])[0]
        kind = "individual" if i % 25 else rng.choice(["team", "legal_entity"])
        c = Commissioner(
            name=person_name(rng) if kind == "individual" else
            (f"{rng.choice(SPECIALTIES)}服务团队" if kind == "team" else "内蒙古草原兴牧科技有限公司"),
            kind=kind, sex=("female" if female else "male") if kind == "individual" else "",
            ethnicity=rng.choices(["汉族", "蒙古族", "回族", "满族"], [70, 24, 3, 3])[0],
            level=rng.choices(["region", "league", "county"], [20, 35, 45])[0],
            sending_org=org or "土默特左旗", sending_org_type=org_type,
            local_talent_kind=rng.choice(["rich_leader", "graduate", "veteran", "returnee"])
            if org_type == "local_talent" else "",
            specialty=rng.choice(SPECIALTIES), title=rng.choice(TITLES),
            three_areas_talent=rng.random() < 0.3, hotline_expert=rng.random() < 0.1,
            phone=phone_number(rng), id_number=_id_number(rng, born, female) if kind == "individual" else "",
            station_id=home.id if rng.random() < 0.8 else expert.id, status=status,
            recognised_on=recognised,
            dispatched_on=recognised + timedelta(days=rng.randrange(10, 90)) if status != "recognised" else None,
            owner_node=code,
            clusters=rng.sample(clusters, rng.choice((1, 1, 2))),
            villages=rng.sample(villages, rng.choice((1, 2, 3))))
        if status == "exited":
            c.exited_on = min(today, c.dispatched_on + timedelta(days=rng.randrange(180, 700)))
            c.exit_reason = rng.choice(["工作调动", "考核不合格", "本人申请退出", "退休"])
        commissioners.append(c)
    db.session.add_all(commissioners)
    db.session.flush()

    for name, cluster, count in (("奶业产业服务团", "奶业", 6), ("肉羊产业服务团", "肉羊", 5),
                                 ("玉米产业服务团", "玉米", 5)):
        members = rng.sample(commissioners, count)
        db.session.add(ServiceTeam(name=name, cluster_id=by_name[cluster].id, leader_id=members[0].id,
                                   members=members, owner_node=code))

    for i in range(sizes[1]):
        kind = rng.choices(["household", "coop", "enterprise", "family_farm", "village_collective"],
                           [70, 12, 5, 10, 3])[0]
        village = rng.choice(villages)
        person = person_name(rng)
        target = ServiceTarget(
            name=person if kind == "household" else
            (village.name.removesuffix("村") + TARGET_SUFFIX[kind] if kind == "village_collective"
             else f"{village.name.removesuffix('村')}{rng.choice(SPECIALTIES)[:2]}{TARGET_SUFFIX[kind]}{i}"),
            kind=kind, village_id=village.id, contact_name=person, phone=phone_number(rng),
            poverty_alleviated=kind == "household" and rng.random() < 0.15,
            monitored=kind == "household" and rng.random() < 0.05,
            household_size=rng.randrange(1, 7) if kind == "household" else None, owner_node=code)
        db.session.add(target)
    db.session.commit()

    linked = commissioners[0]
    for username, role, display, commissioner in () if code != node.code else (
            ("demo-admin", "station_admin", "站管理员", None),
            ("demo-staff", "station_staff", "高志强", None),
            ("demo-commissioner", "commissioner", linked.name, linked)):
        if db.session.scalar(select(User).where(User.username == username)) is None:
            create_user(username=username, password=DEMO_PASSWORD, role=role, node_code=code,
                        display_name=display, commissioner_id=commissioner.id if commissioner else None)
    from app.trainings.demo import seed as seed_trainings
    from app.visits.demo import seed_visits
    visits = seed_visits(scale, code, linked.id)
    return {"villages": len(villages), "commissioners": len(commissioners),
            "service targets": sizes[1], "stations": 2, "sites": len(sites), "teams": 3,
            "visits": visits, **seed_trainings(scale, code), **seed_agreements(scale, code)}
