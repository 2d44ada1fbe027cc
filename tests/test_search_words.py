"""A search of several words finds the records that contain every one of them (each word
as a one-word search finds it), in visits, training sessions and agreements."""
import pytest
from sqlalchemy import text

from app.core import records
from app.core.extensions import db
from app.visits import search
from tests.factories import create_agreement, create_training, visit_form


def test_words_split_at_spaces_full_width_too():
    assert records.search_words("母羊  钙剂\u3000食欲") == ["母羊", "钙剂", "食欲"]
    assert records.search_words("羊 羊") == ["羊"]
    assert records.search_words("   ") == []
    assert len(records.search_words(" ".join(f"w{i}" for i in range(20)))) == records.MAX_WORDS


def test_sqlite_search_reads_one_index_a_word(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite's FTS5 plan")
        sub = search.fts_ids("母羊 钙剂 食欲不振")
        sql = str(sub.compile(db.engine, compile_kwargs={"literal_binds": True}))
        assert sql.count("INTERSECT") == 2 and "visit_fts_pairs MATCH" in sql and "visit_fts MATCH" in sql
        plan = " ".join(str(row[-1]) for row in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "VIRTUAL TABLE INDEX" in plan and "SCAN visit " not in plan


@pytest.mark.parametrize("q, found", [
    ("母羊 钙剂", True),               # one word in the problem, one in the action
    ("母羊\u3000钙剂", True),           # a full-width space
    ("钙剂 母羊 恢复站立", True),        # any order, a long word with them
    ("羊 钙", True),                    # single characters
    ("母羊 玉米", False),               # one of the words is missing
    ("母羊钙剂", False),                # written together it is one word
])
def test_visits_match_every_word(app, login, world, q, found):
    client = login("staff")
    response = client.post("/visits/new", data=visit_form(world))
    assert response.status_code == 302
    vid = response.headers["Location"].rsplit("/", 1)[1]
    body = client.get("/visits/", query_string={"q": q}).get_data(as_text=True)
    assert (f'/visits/{vid}"' in body) is found, q


def test_trainings_match_every_word(app, login, places):
    client = login("staff")
    create_training(client, places)  # 玉米密植高产技术培训, content 密植、水肥一体化
    create_training(client, places, title="肉羊养殖培训", content="疫病防控")

    def titles(q):
        return client.get("/trainings/", query_string={"q": q}).get_data(as_text=True)

    assert "玉米密植" in titles("玉米 水肥") and "肉羊养殖" not in titles("玉米 水肥")
    assert "肉羊养殖" in titles("培训 疫病") and "玉米密植" not in titles("培训 疫病")
    both = titles("培训")
    assert "玉米密植" in both and "肉羊养殖" in both
    none = titles("玉米 疫病")
    assert "玉米密植" not in none and "肉羊养殖" not in none


def test_agreements_match_every_word(app, login):
    client = login("staff")
    create_agreement(app, client, number="LY-WORDS-1")  # 肉羊繁育技术入股, 王建国 and 其木格

    def found(q):
        return "LY-WORDS-1" in client.get("/agreements/", query_string={"q": q}).get_data(as_text=True)

    assert found("其木格 肉羊")          # a party's name and a word of the title
    assert found("王建国 其木格 合作社")  # both parties and the counterpart
    assert not found("其木格 玉米")
    assert found("LY-WORDS")
