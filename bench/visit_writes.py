"""Does editing or deleting a visit cost the same on a small county as on a large one?

Builds SQLite databases of N visits (default 2,000 and 20,000) with the schema of
``create_all`` and the search index of app.visits.search, and times single-row writes
inside one transaction (rolled back), median of many:

- *by id*: ``UPDATE visit SET people_reached = … WHERE id = ?`` (touches no index of
  the text: the floor);
- *edit*: ``UPDATE visit SET problem = … WHERE id = ?`` (the search triggers rewrite the
  visit's index rows);
- *delete*: ``DELETE FROM visit WHERE id = ?``.

Each size is measured with the triggers of this program ("now") and with the triggers
of before migration e6f7a8b9c0d1 ("before": index rows found by an UNINDEXED column).
The ratios edit/by-id and delete/by-id must not grow with N.

    .venv/bin/python bench/visit_writes.py [--sizes 2000 20000] [--ops 300]
"""
import argparse
import importlib.util
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from sqlalchemy import create_engine  # noqa: E402

from app.models import Visit  # noqa: E402
from app.models.base import Base, new_id  # noqa: E402
from app.visits import search  # noqa: E402

WORDS = ["奶牛乳房炎", "玉米螟虫害", "马铃薯晚疫病", "羊群口蹄疫免疫", "设施大棚温度", "小麦条锈病",
         "测土配方施肥", "滴灌水肥一体化", "肉牛育肥", "向日葵列当", "青贮玉米收获", "犊牛腹泻"]
MIGRATION = os.path.join(ROOT, "migrations", "versions", "e6f7a8b9c0d1_search_index_rows_by_key.py")


def old_triggers() -> list[str]:
    """The triggers of before the keyed index, from the migration that replaced them."""
    spec = importlib.util.spec_from_file_location("rekey_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.OLD_DDL


def text_of(rng: random.Random) -> str:
    return "，".join(rng.sample(WORDS, 3)) + f"，第{rng.randint(1, 9999)}户"


def build(path: str, n: int) -> list[str]:
    """A database of ``n`` visits with the search index; returns their ids."""
    engine = create_engine(f"sqlite:///{path}")
    rng = random.Random(n)
    ids = [new_id() for _ in range(n)]
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        Base.metadata.create_all(conn)
        search.install(conn)
        rows = [{"id": vid, "number": f"150121-01-2024-{i + 1:05d}", "year": 2024,
                 "sequence": i + 1, "visited_on": date(2024, 1, 1) + timedelta(days=i % 365),
                 "owner_node": "150121-01", "origin_node": "150121-01",
                 "problem": text_of(rng), "action": text_of(rng), "result": text_of(rng)}
                for i, vid in enumerate(ids)]
        for at in range(0, n, 2000):
            conn.execute(Visit.__table__.insert(), rows[at:at + 2000])
    engine.dispose()
    return ids


def use_old_triggers(path: str) -> None:
    with connect(path) as conn:
        for name in ("visit_search_insert", "visit_search_update", "visit_search_delete"):
            conn.execute(f"DROP TRIGGER {name}")
        for statement in old_triggers():
            conn.execute(statement)


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.create_function("kepai_pairs", 1, search.pairs, deterministic=True)
    return conn


WRITES = {
    "by id": ("UPDATE visit SET people_reached = people_reached + 1 WHERE id = ?", False),
    "edit": ("UPDATE visit SET problem = ? WHERE id = ?", True),
    "delete": ("DELETE FROM visit WHERE id = ?", False),
}


def timed(path: str, ids: list[str], ops: int) -> dict:
    """Median ms of each kind of write, on ``ops`` different visits each, rolled back."""
    rng = random.Random(1)
    conn = connect(path)
    conn.execute("SELECT count(*) FROM visit_fts").fetchone()  # warm the cache
    conn.execute("BEGIN")
    chosen = rng.sample(ids, ops * len(WRITES))
    medians = {}
    for k, (name, (sql, with_text)) in enumerate(WRITES.items()):
        times = []
        for vid in chosen[k * ops:(k + 1) * ops]:
            params = (text_of(rng), vid) if with_text else (vid,)
            started = time.perf_counter()
            conn.execute(sql, params)
            times.append(time.perf_counter() - started)
        medians[name] = statistics.median(times) * 1000
    conn.rollback()
    conn.close()
    return medians


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--ops", type=int, default=300)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="kepai-bench-writes-")
    print(f"{'visits':>7} {'triggers':>8} {'by id ms':>9} {'edit ms':>8} {'delete ms':>9} "
          f"{'edit/by id':>10} {'delete/by id':>12}")
    for n in args.sizes:
        path = os.path.join(folder, f"visits-{n}.sqlite3")
        ids = build(path, n)
        for scheme in ("now", "before"):
            if scheme == "before":
                use_old_triggers(path)
            m = timed(path, ids, min(args.ops, n // 3))
            print(f"{n:7d} {scheme:>8} {m['by id']:9.3f} {m['edit']:8.3f} {m['delete']:9.3f} "
                  f"{m['edit'] / m['by id']:10.1f} {m['delete'] / m['by id']:12.1f}")


if __name__ == "__main__":
    main()
