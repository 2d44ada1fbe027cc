"""The league home's "sheets awaiting review": every submitted sheet of the league's
stations read and filtered in Python (before), against one query that selects only those
awaiting review with whom they grade (``assessments.awaiting_review``, now).

    .venv/bin/python bench/awaiting_review.py [--stations 20] [--per-station 60] [--years 3]
        [--database postgresql+psycopg:///kepai_bench_x]

A league on SQLite (or the PostgreSQL database given, emptied first) with
``stations × per-station`` commissioners, each with a sheet per year: a third never
submitted, and of the submitted most already graded or returned, as late in a review
season. Reads what the league home does (the list, its length, whom the first eight
grade). Prints the statements and the median time of each way, and their ratio, from
one run. Not a test.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KEPAI_SQLITE_SYNCHRONOUS", "OFF")

from flask import g  # noqa: E402
from sqlalchemy import event, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from app.assessments import services as assessments  # noqa: E402
from app.auth.services import create_user  # noqa: E402
from app.core.extensions import db  # noqa: E402
from app.models import AssessmentSheet, Commissioner, User  # noqa: E402
from app.setup import initialise  # noqa: E402

LEAGUE = "1501"
SHOWN = 8  # the sheets the league home names (templates/main/home_league.html)


def before(user) -> list:
    """What the home page did: every submitted sheet, then the status in Python."""
    return [s for s in assessments.to_review(None, user) if s.status == "submitted"]


def build(app, stations: int, per_station: int, years: int) -> int:
    import uuid
    with app.app_context():
        g.actor = "bench"
        db.drop_all()
        db.create_all()
        initialise("league", LEAGUE, "呼和浩特市科技局")
        db.session.commit()
        create_user(username="reviewer", password="secret-pass-1", role="league_reviewer",
                    node_code=LEAGUE)
        people, sheets, n = [], [], 0
        for s in range(stations):
            code = f"1501{21 + s // 9:02d}-{s % 9 + 1:02d}"
            for p in range(per_station):
                pid = str(uuid.uuid4())
                people.append({"id": pid, "name": f"特派员{s}-{p}", "owner_node": code,
                               "origin_node": code, "version": 1, "field_versions": {},
                               "kind": "individual", "level": "county", "status": "recognised"})
                for y in range(years):
                    n += 1
                    submitted = n % 3 != 0
                    reviewed = submitted and n % 4 != 0
                    sheets.append({
                        "id": str(uuid.uuid4()), "owner_node": code, "origin_node": code,
                        "version": 1, "field_versions": {}, "subject": "commissioner",
                        "year": 2023 + y, "commissioner_id": pid, "entered": {}, "snapshot": {},
                        "submission": 1 if submitted else 0,
                        "submitted_at": datetime(2026, 1, 1) if submitted else None,
                        "reviewed_submission": 1 if reviewed else 0,
                        "review_state": ("graded" if n % 5 else "returned") if reviewed else "",
                        "final_grade": "pass" if reviewed and n % 5 else ""})
        db.session.execute(insert(Commissioner.__table__), people)
        db.session.execute(insert(AssessmentSheet.__table__), sheets)
        db.session.commit()
        return len(sheets)


def measure(app, way, repeats: int) -> tuple[float, int, int]:
    """(median seconds, statements, sheets) of what the home page reads: the list, its
    length, and whom the first ``SHOWN`` grade."""
    times, counts, found = [], [], 0
    with app.app_context():
        for _ in range(repeats):
            db.session.remove()
            user = db.session.scalar(select(User).where(User.username == "reviewer"))
            seen = []

            def count(*args, seen=seen):
                seen.append(1)
            event.listen(db.engine, "before_cursor_execute", count)
            start = time.perf_counter()
            sheets = way(user)
            [s.subject_name for s in sheets[:SHOWN]]  # what the page names; it counts the rest
            times.append(time.perf_counter() - start)
            event.remove(db.engine, "before_cursor_execute", count)
            counts.append(len(seen))
            found = len(sheets)
    return statistics.median(times), counts[-1], found


def db_name(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--per-station", type=int, default=60)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--database")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="kepai-bench-awaiting-")
    os.environ["KEPAI_INSTANCE"] = folder
    url = args.database or f"sqlite:///{folder}/kepai.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SYNC_AUTO": False, "TESTING": True})
    total = build(app, args.stations, args.per_station, args.years)
    old = measure(app, before, args.repeats)
    new = measure(app, assessments.awaiting_review, args.repeats)
    assert old[2] == new[2], (old, new)
    print(f"{db_name(url)}: {total} sheets, "
          f"{new[2]} awaiting review")
    print(f"before: {old[1]} statements, median {old[0] * 1000:.1f} ms")
    print(f"now:    {new[1]} statements, median {new[0] * 1000:.1f} ms")
    print(f"ratio:  {old[0] / new[0]:.1f}x")


if __name__ == "__main__":
    main()
