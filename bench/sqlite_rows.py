"""Why pages read their rows at once (app/core/database.py ``rows_at_once``).

Python's sqlite3 gives up the interpreter lock for every row it steps through. While
another thread runs Python (another request being rendered), getting the lock back can
take up to a switch interval (5 ms), once per row. This script times one query of 25
visit lines on the benchmark's dataset, read row by row and as one JSON row, alone and
beside threads that keep the interpreter busy.

    .venv/bin/python bench/sqlite_rows.py [--database /tmp/kepai-bench/kepai.sqlite3]
"""
import argparse
import sqlite3
import threading
import time

LINES = ("SELECT visit.id, visit.number, visit.visited_on, substr(visit.problem, 1, 61) AS problem, "
         "(SELECT group_concat(commissioner.name, char(31)) FROM visit_commissioner "
         " JOIN commissioner ON commissioner.id = visit_commissioner.commissioner_id "
         " WHERE visit_commissioner.visit_id = visit.id) AS commissioners "
         "FROM visit WHERE visit.id IN ({marks})")
AT_ONCE = ("SELECT json_group_array(json_array(id, number, visited_on, problem, commissioners)) "
           "FROM ({lines})")


def busy(stop: list) -> None:
    while not stop:
        sum(range(1000))


def timed(database: str, sql: str, ids: list, busy_threads: int, runs: int = 100) -> float:
    """Median ms of ``sql`` (all rows fetched) with ``busy_threads`` running Python."""
    connection = sqlite3.connect(database, check_same_thread=False)
    stop: list = []
    threads = [threading.Thread(target=busy, args=(stop,)) for _ in range(busy_threads)]
    for thread in threads:
        thread.start()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        connection.execute(sql, ids).fetchall()
        times.append(time.perf_counter() - started)
    stop.append(True)
    for thread in threads:
        thread.join()
    return sorted(times)[runs // 2] * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="/tmp/kepai-bench/kepai.sqlite3")
    database = parser.parse_args().database
    ids = [row[0] for row in sqlite3.connect(database).execute(
        "SELECT id FROM visit ORDER BY visited_on DESC LIMIT 25")]
    lines = LINES.format(marks=",".join("?" * len(ids)))
    at_once = AT_ONCE.format(lines=lines)
    print(f"{'busy threads':>12} {'row by row ms':>14} {'at once ms':>11}")
    for busy_threads in (0, 1, 3):
        print(f"{busy_threads:12d} {timed(database, lines, ids, busy_threads):14.2f} "
              f"{timed(database, at_once, ids, busy_threads):11.2f}")


if __name__ == "__main__":
    main()
