"""A commissioner's year from the records, hand-counted: every computed figure and every
score of the shipped scheme equals the count by hand (deleted records and records
outside the year excluded, 1 January and 31 December included; a session with a roster
and head counts counts the roster only)."""
from datetime import date, datetime
from decimal import Decimal

import pytest
from flask import g

from app.assessments import figures, services
from app.core.extensions import db
from app.models import (
    Agreement,
    AgreementParty,
    Commissioner,
    Payout,
    Place,
    ServiceTarget,
    Training,
    TrainingAttendee,
    Visit,
)
from app.models.shipped import shipped_id

STATION = "150121-01"
OTHER = "150122-01"
GONE = datetime(2025, 7, 1)


def _visit(n, on, people, targets=(), **extra):
    return Visit(number=f"{STATION}-{on.year}-{n:05d}", year=on.year, sequence=n, visited_on=on,
                 commissioners=people, targets=list(targets), owner_node=STATION, **extra)


@pytest.fixture
def hand_counted(app):
    """The records of 2025 around 王 and 李 (counts in the test); {name: id}."""
    with app.app_context():
        g.actor = "test"
        county = shipped_id("place", "150121")
        v1 = Place(name="红旗村", level="village", parent_id=county, owner_node=STATION)
        v2 = Place(name="把什村", level="village", parent_id=county, owner_node=STATION)
        wang = Commissioner(name="王建国", owner_node=STATION, status="dispatched",
                            recognised_on=date(2024, 1, 1), dispatched_on=date(2024, 2, 1))
        li = Commissioner(name="李秀英", owner_node=STATION, recognised_on=date(2025, 12, 31))
        late = Commissioner(name="明年才认定", owner_node=STATION, recognised_on=date(2026, 1, 1))
        left = Commissioner(name="去年退出", owner_node=STATION, status="exited",
                            recognised_on=date(2023, 1, 1), exited_on=date(2024, 12, 31),
                            exit_reason="调离")
        stayed = Commissioner(name="今年退出", owner_node=STATION, status="exited",
                              recognised_on=date(2023, 1, 1), exited_on=date(2025, 1, 1),
                              exit_reason="调离")
        removed = Commissioner(name="已删除", owner_node=STATION, deleted_at=GONE)
        far = Commissioner(name="外站专家", owner_node=OTHER)
        poor = ServiceTarget(name="脱贫户甲", kind="household", poverty_alleviated=True,
                             owner_node=STATION)
        plain = ServiceTarget(name="普通户", kind="household", owner_node=STATION)
        gone_target = ServiceTarget(name="删除户", kind="household", monitored=True,
                                    owner_node=STATION, deleted_at=GONE)
        db.session.add_all([v1, v2, wang, li, late, left, stayed, removed, far, poor, plain,
                            gone_target])
        db.session.flush()
        db.session.add_all([
            _visit(1, date(2025, 1, 1), [wang], [poor], hours=2, village_id=v1.id,
                   technology_count=1),
            _visit(2, date(2025, 1, 1), [wang], [plain], hours=1.5, village_id=v2.id,
                   variety_count=2),
            _visit(3, date(2025, 12, 31), [wang, li], [poor], hours=3, village_id=v1.id,
                   technology_count=2),
            _visit(4, date(2024, 12, 31), [wang], [plain], hours=9, village_id=v2.id),
            _visit(5, date(2026, 1, 1), [wang], [plain], hours=9, village_id=v2.id),
            _visit(6, date(2025, 6, 1), [wang], [plain], hours=9, technology_count=9,
                   deleted_at=GONE),
            _visit(7, date(2025, 6, 2), [wang], [gone_target]),
        ])
        t1 = Training(title="有名单", held_on=date(2025, 3, 1), status="held", trainers=[wang],
                      head_counts={"farmer": 10}, owner_node=STATION)
        t2 = Training(title="只有人数", held_on=date(2025, 12, 31), status="held",
                      trainers=[wang, li], head_counts={"farmer": 5, "rich_leader": 3},
                      owner_node=STATION)
        t3 = Training(title="计划中", held_on=date(2025, 5, 1), status="planned", trainers=[wang],
                      head_counts={"farmer": 50}, owner_node=STATION)
        t4 = Training(title="已删除", held_on=date(2025, 7, 1), status="held", trainers=[wang],
                      head_counts={"farmer": 50}, owner_node=STATION, deleted_at=GONE)
        t5 = Training(title="去年", held_on=date(2024, 12, 31), status="held", trainers=[wang],
                      head_counts={"farmer": 50}, owner_node=STATION)
        db.session.add_all([t1, t2, t3, t4, t5])
        db.session.flush()
        db.session.add_all([
            TrainingAttendee(training_id=t1.id, name="学员一", owner_node=STATION),
            TrainingAttendee(training_id=t1.id, name="学员二", owner_node=STATION),
            TrainingAttendee(training_id=t1.id, name="删掉的", owner_node=STATION, deleted_at=GONE),
        ])
        agreements = {
            "a1": Agreement(number="A1", title="在执行", form="technology_equity",
                            status="in_force", starts_on=date(2024, 6, 1), owner_node=STATION),
            "a2": Agreement(number="A2", title="去年到期", form="technology_equity",
                            status="ended", starts_on=date(2023, 1, 1), ends_on=date(2024, 12, 31),
                            owner_node=STATION),
            "a3": Agreement(number="A3", title="年末终止", form="technology_equity",
                            status="terminated", starts_on=date(2025, 3, 1),
                            terminated_on=date(2025, 12, 31), owner_node=STATION),
            "a4": Agreement(number="A4", title="草稿", form="technology_equity", status="draft",
                            owner_node=STATION),
            "a5": Agreement(number="A5", title="已退出", form="technology_equity",
                            status="in_force", starts_on=date(2025, 1, 1), owner_node=STATION),
            "a6": Agreement(number="A6", title="明年开始", form="technology_equity",
                            status="in_force", starts_on=date(2026, 1, 1), owner_node=STATION),
        }
        db.session.add_all(agreements.values())
        db.session.flush()
        for key in ("a1", "a2", "a3", "a4", "a6"):
            db.session.add(AgreementParty(agreement_id=agreements[key].id, commissioner_id=wang.id,
                                          owner_node=STATION))
        db.session.add(AgreementParty(agreement_id=agreements["a5"].id, commissioner_id=wang.id,
                                      owner_node=STATION, deleted_at=GONE))
        db.session.add(AgreementParty(agreement_id=agreements["a1"].id, commissioner_id=li.id,
                                      owner_node=STATION))
        a1, a3 = agreements["a1"].id, agreements["a3"].id
        db.session.add_all([
            Payout(agreement_id=a1, paid_on=date(2025, 1, 1), amount_fen=10000, kind="dividend",
                   payee_id=wang.id, owner_node=STATION),
            Payout(agreement_id=a3, paid_on=date(2025, 12, 31), amount_fen=5050, kind="service_fee",
                   payee_id=wang.id, owner_node=STATION),
            Payout(agreement_id=a1, paid_on=date(2024, 12, 31), amount_fen=99900, kind="dividend",
                   payee_id=wang.id, owner_node=STATION),
            Payout(agreement_id=a1, paid_on=date(2025, 5, 1), amount_fen=99900, kind="dividend",
                   payee_id=wang.id, owner_node=STATION, deleted_at=GONE),
            Payout(agreement_id=a1, paid_on=date(2025, 6, 1), amount_fen=2000, kind="dividend",
                   payee_id=li.id, owner_node=STATION),
        ])
        db.session.commit()
        return {"wang": wang.id, "li": li.id, "late": late.id, "left": left.id,
                "stayed": stayed.id, "removed": removed.id, "far": far.id}


WANG_2025 = {"visits": 4, "service_days": 3, "hours": 6.5, "villages": 2, "targets": 2,
             "priority_targets": 1, "technologies": 3, "varieties": 2,
             "technologies_varieties": 5, "trainings": 2, "people_trained": 10,
             "agreements": 2, "payouts_fen": 15050}
LI_2025 = {"visits": 1, "service_days": 1, "hours": 3.0, "villages": 1, "targets": 1,
           "priority_targets": 1, "technologies": 2, "varieties": 0,
           "technologies_varieties": 2, "trainings": 1, "people_trained": 8,
           "agreements": 1, "payouts_fen": 2000}


def test_every_figure_equals_the_hand_count(app, hand_counted):
    with app.app_context():
        found = figures.commissioner_figures(2025, [hand_counted["wang"], hand_counted["li"]],
                                             STATION)
    assert found[hand_counted["wang"]] == WANG_2025
    assert found[hand_counted["li"]] == LI_2025


def test_a_page_of_many_commissioners_counts_the_same(app, hand_counted):
    """More than ten ids take the other way in (figures._among): the same counts."""
    others = [f"00000000-0000-4000-8000-{n:012d}" for n in range(12)]
    with app.app_context():
        found = figures.commissioner_figures(
            2025, [hand_counted["wang"], *others, hand_counted["li"]], STATION)
    assert found[hand_counted["wang"]] == WANG_2025
    assert found[hand_counted["li"]] == LI_2025
    assert all(found[o]["visits"] == 0 for o in others)


def test_another_year_counts_its_own_records(app, hand_counted):
    with app.app_context():
        found = figures.commissioner_figures(2024, [hand_counted["wang"]], STATION)
    wang = found[hand_counted["wang"]]
    assert (wang["visits"], wang["service_days"], wang["hours"], wang["trainings"],
            wang["people_trained"], wang["agreements"], wang["payouts_fen"]) == \
        (1, 1, 9.0, 1, 50, 2, 99900)


def test_the_commissioners_active_in_the_year(app, hand_counted):
    from app.models import User
    with app.app_context():
        staff = db.session.scalar(db.select(User).where(User.username == "staff"))
        names = [c.name for c in services.active_commissioners(2025, staff)]
    assert names == sorted(["王建国", "李秀英", "今年退出"])


def test_every_score_equals_the_hand_count(app, hand_counted):
    """The shipped scheme on 王's 2025, with satisfaction 85%, summary 8, press 7."""
    from app.models import User
    with app.app_context():
        staff = db.session.scalar(db.select(User).where(User.username == "staff"))
        scheme = services.scheme_for("commissioner", 2025, staff)
        wang = db.session.get(Commissioner, hand_counted["wang"])

        class Sheet:  # an unsaved sheet's entered figures
            submission, snapshot, entered = 0, {}, {"satisfaction": "85", "summary": "8",
                                                     "press": "7"}
        (found,) = services.evaluate_many(2025, [wang], {wang.id: Sheet()}, STATION, scheme)
    assert found.result["scores"] == {
        "service_days": "1.8",      # 50-day threshold, 47 days short × 0.6 off 30
        "visits": "2",              # 4 × 0.5
        "people_trained": "1",      # 10 × 0.1
        "technologies": "5",        # 3 technologies + 2 varieties, 1 each
        "priority_targets": "1",    # 1 household × 1
        "agreements": "10",         # at least one in force: fixed 10
        "satisfaction": "7.5",      # 90% threshold, 5 short × 0.5 off 10
        "summary": "8",             # entered score
        "press": "5",               # 7 × 1, capped at 5 (bonus)
    }
    assert (found.result["base"], found.result["bonus"], found.result["total"]) == \
        ("36.3", "5", "41.3")
    assert found.grade == "fail"
    assert Decimal(found.result["total"]) == Decimal("41.3")
