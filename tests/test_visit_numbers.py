"""Visit numbers: many visits created at once each get their own number, none fails;
visits numbered without the counter (the demo seed, an old database) are stepped over."""
import threading
from datetime import date

from flask import g
from sqlalchemy import select

from app.core.extensions import db
from app.models import NumberCounter, Visit
from app.visits import services
from tests.factories import visit_form
from tests.settings import STATION

WRITERS = 40


def test_visits_created_at_once_get_distinct_numbers(app, login, world):  # noqa: F811
    staff = login("staff")
    cookie = staff.get_cookie("session").value
    barrier = threading.Barrier(WRITERS)
    answers = [None] * WRITERS

    def create(i):
        client = app.test_client()
        client.set_cookie("session", cookie)
        barrier.wait()
        response = client.post("/visits/new", data=visit_form(world, problem=f"并发 {i}"))
        answers[i] = (response.status_code, response.get_data(as_text=True)[:300])

    threads = [threading.Thread(target=create, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(status == 302 for status, _ in answers), [a for a in answers if a[0] != 302]
    with app.app_context():
        numbers = db.session.scalars(select(Visit.sequence).where(Visit.year == 2025)).all()
        assert sorted(numbers) == list(range(1, WRITERS + 1))
        counter = db.session.get(NumberCounter, ("visit", STATION, 2025))
        assert counter.last == WRITERS


def test_numbers_step_over_visits_saved_without_the_counter(app, login, world):  # noqa: F811
    with app.app_context():
        g.actor = "test"
        for sequence in (1, 2, 7):  # as the demo seed writes them
            db.session.add(Visit(owner_node=STATION, year=2025, sequence=sequence,
                                 number=f"{STATION}-2025-{sequence:05d}",
                                 visited_on=date(2025, 1, sequence)))
        db.session.commit()
    client = login("staff")
    for _ in range(2):
        assert client.post("/visits/new", data=visit_form(world)).status_code == 302
    with app.app_context():
        assert sorted(db.session.scalars(select(Visit.sequence))) == [1, 2, 7, 8, 9]
        # another year starts at 1
        assert services.next_number(STATION, 2024) == (1, f"{STATION}-2024-00001")
        db.session.rollback()
