"""Why the training list's attendee-category filter asks EXISTS per session, not IN a list
(app/trainings/services.py ``conditions``).

The two forms select the same sessions. IN first gathers the ids of every session with
an attendee of the category (an index range read into a temporary table, the whole
category's attendees); EXISTS asks each session in the list's order, and a page stops
asking once it is full. This script times both on the benchmark's county dataset (made by
bench/pages.py), for every category: the count, and the ids of pages 1, 20 and 80.

    .venv/bin/python bench/training_category.py [--database /tmp/kepai-bench/kepai.sqlite3]

It prints milliseconds (median of the runs), EXISTS's time over IN's, and whether the two
forms list the same sessions in the same order; it asserts nothing.
"""
import argparse
import os
import sqlite3
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from app.core.node import ancestors  # noqa: E402
from app.trainings.vocab import CATEGORIES  # noqa: E402

ON_ROSTER = {
    "IN": "training.id IN (SELECT training_id FROM training_attendee "
          "WHERE category = :category AND deleted_at IS NULL)",
    "EXISTS": "EXISTS (SELECT training_attendee.id FROM training_attendee "
              "WHERE training_attendee.training_id = training.id "
              "AND training_attendee.category = :category "
              "AND training_attendee.deleted_at IS NULL)",
}
# The list's conditions as the app writes them for a station's staff (their node, its
# parents), with the category's head counts as the other way in.
MATCHING = ("FROM training WHERE (training.owner_node = :node OR training.owner_node IN "
            "(:region, :league)) AND training.deleted_at IS NULL AND ({on_roster} OR "
            "json_extract(training.head_counts, :path) > 0)")
QUESTIONS = {
    "count": "SELECT count(*) FROM (SELECT training.id {matching})",
    **{f"page {page}": "SELECT training.id {matching} ORDER BY training.held_on DESC, "
                       f"training.id LIMIT 25 OFFSET {(page - 1) * 25}" for page in (1, 20, 80)},
}


def timed(connection, sql: str, values: dict, runs: int) -> float:
    connection.execute(sql, values).fetchall()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        connection.execute(sql, values).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="/tmp/kepai-bench/kepai.sqlite3")
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args()
    connection = sqlite3.connect(f"file:{options.database}?mode=ro", uri=True)
    node = connection.execute("SELECT code FROM node_identity").fetchone()[0]
    sessions = connection.execute("SELECT count(*) FROM training WHERE deleted_at IS NULL").fetchone()[0]
    print(f"{sessions} sessions; ms, median of {options.runs} runs: IN / EXISTS (ratio)")
    print(f"{'category':<18} {'sessions':>8}  " + "  ".join(f"{q:>24}" for q in QUESTIONS)
          + "  same")
    region, league = ancestors(node)
    for category in [*CATEGORIES, "none_such"]:
        values = {"node": node, "region": region, "league": league, "category": category,
                  "path": f'$."{category}"'}
        cells, matched = [], None
        for shape in QUESTIONS.values():
            ms = {form: timed(connection, shape.format(matching=MATCHING.format(on_roster=sql)),
                              values, options.runs) for form, sql in ON_ROSTER.items()}
            cells.append(f"{ms['IN']:7.2f} / {ms['EXISTS']:6.2f} ({ms['EXISTS'] / ms['IN']:4.2f})")
            if matched is None:
                matched = connection.execute(shape.format(matching=MATCHING.format(
                    on_roster=ON_ROSTER["EXISTS"])), values).fetchone()[0]
        listed = [connection.execute(f"SELECT training.id {MATCHING.format(on_roster=sql)} "
                                     "ORDER BY training.held_on DESC, training.id", values).fetchall()
                  for sql in ON_ROSTER.values()]
        print(f"{category:<18} {matched:>8}  " + "  ".join(f"{c:>24}" for c in cells)
              + ("  yes" if listed[0] == listed[1] else "  NO"))


if __name__ == "__main__":
    main()
