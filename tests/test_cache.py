"""Remembered answers (app/core/cache.py) and pre-rendered options (app/web/options.py): a list's
count and drop-downs follow every committed change at once, and nothing uncommitted is
remembered."""
from flask import g

from app.core import cache
from app.core.extensions import db
from app.models import Cluster, Commissioner
from app.web.options import OptionList, option_tags
from tests.factories import visit_form
from tests.settings import STATION


def test_list_count_follows_a_new_visit_at_once(app, login, world):  # noqa: F811
    client = login("staff")
    assert "共 0 条" in client.get("/visits/").get_data(as_text=True)
    assert "共 0 条" in client.get("/visits/").get_data(as_text=True)  # remembered now
    assert client.post("/visits/new", data=visit_form(world)).status_code == 302
    assert "共 1 条" in client.get("/visits/").get_data(as_text=True)


def test_filter_drop_downs_show_a_new_commissioner_at_once(app, login, world):  # noqa: F811
    client = login("staff")
    assert "新来的特派员" not in client.get("/visits/").get_data(as_text=True)
    with app.app_context():
        g.actor = "test"
        db.session.add(Commissioner(name="新来的特派员", owner_node=STATION))
        db.session.commit()
    assert "新来的特派员" in client.get("/visits/").get_data(as_text=True)


def test_nothing_uncommitted_is_remembered(app):
    calls = []

    def clusters():
        calls.append(1)
        return sorted(db.session.scalars(db.select(Cluster.name)))

    with app.test_request_context():
        g.actor = "test"
        before = cache.remembered(("clusters",), clusters)
        assert cache.remembered(("clusters",), clusters) == before and len(calls) == 1
        db.session.add(Cluster(name="未提交的集群", owner_node=STATION))
        db.session.flush()
        assert "未提交的集群" in cache.remembered(("clusters",), clusters)
        db.session.rollback()
        assert cache.remembered(("clusters",), clusters) == before


def test_answers_are_not_remembered_when_switched_off(app):
    app.config["ANSWER_CACHE"] = False
    calls = []
    with app.test_request_context():
        for _ in range(2):
            cache.remembered(("n",), lambda: calls.append(1))
    assert len(calls) == 2


def test_option_tags_escape_and_mark_the_chosen_one():
    options = OptionList([("a1", "<李> & 王"), ("b2", "张"), (3, "three")])
    assert str(option_tags(options)) == ('<option value="a1">&lt;李&gt; &amp; 王</option>'
                                         '<option value="b2">张</option><option value="3">three</option>')
    assert '<option value="b2" selected>张</option>' in option_tags(options, "b2")
    assert "selected" not in option_tags(options, "b")  # a value's prefix is not the value
    assert option_tags([("x", "X")], "x") == '<option value="x" selected>X</option>'
    assert options.without({"a1"}) == [("b2", "张"), ("3", "three")]
    assert options.without(set()) is options


def test_options_without_the_chosen_ones_are_what_rendering_the_rest_gives():
    """``without`` cuts the chosen ones' tags out of the rendered ones (a picker of 900
    targets); the tags are what rendering the rest anew would give."""
    options = OptionList([("a1", "<李> & 王"), ("b2", "张"), ("c3", "王"), ("b2", "张")])
    assert options.without(["zz"]) is options and options.without([]) is options
    for chosen in (["b2"], ["a1", "c3"], ["a1", "b2", "c3"]):
        rest = options.without(chosen)
        again = OptionList([pair for pair in options if pair[0] not in chosen])
        assert list(rest) == list(again) and rest.tags == again.tags
    assert "<李>" not in options.without(["a1"]).tags and "&lt;李&gt;" in options.tags


def test_a_newer_generation_drops_the_older_answers():
    answers = cache.Answers()
    answers.put((1, "count"), 10)
    assert answers.get((1, "count"))[1] == 10
    answers.put((2, "count"), 11)
    assert answers.get((1, "count")) is None and answers.get((2, "count"))[1] == 11
    answers.put((1, "late"), 9)  # worked out by a request that began before the write
    assert answers.get((1, "late")) is None


def _ask_at_once(app, key, compute, how_many: int) -> list:
    """``how_many`` threads (each a request of its own) ask ``remembered(key, compute)`` at
    once; their answers."""
    import threading
    answers, start = [], threading.Barrier(how_many)

    def ask():
        with app.test_request_context():
            g.data_generation = 7  # no write happens here: the generation stays
            start.wait()
            answers.append(cache.remembered(key, compute))

    threads = [threading.Thread(target=ask) for _ in range(how_many)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return answers


def test_one_request_works_an_answer_out_while_the_others_wait_for_it(app):
    import time
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return len(calls)

    assert _ask_at_once(app, ("slow",), slow, 4) == [1, 1, 1, 1]
    assert len(calls) == 1


def test_an_answer_past_its_time_is_given_while_one_request_works_it_out_again(app, monkeypatch):
    import time
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return len(calls)

    with app.test_request_context():
        g.data_generation = 7
        assert cache.remembered(("slow",), slow) == 1
    monkeypatch.setattr(cache, "KEEP_SECONDS", 0.0)  # every answer is now past its time
    # one request works it out again (2); the others, meanwhile, get the answer it replaces
    assert sorted(_ask_at_once(app, ("slow",), slow, 4)) == [1, 1, 1, 2]
    assert len(calls) == 2
    assert not app.extensions["answers"]._working  # nothing left behind


def test_an_options_select_marks_the_chosen_ones_as_wtforms_would(app):
    """OptionsSelectField: the option tags rendered once, the chosen ones marked, the
    same choices WTForms renders an option at a time otherwise; a blank option in front
    keeps the list's tags."""
    from wtforms import Form, SelectField, SelectMultipleField

    from app.web.forms import OptionsSelectField, OptionsSelectMultipleField

    people = OptionList([("a1", "<李>"), ("b2", "张"), ("c3", "王")])
    choices = [("", "—")] + people
    assert isinstance(choices, OptionList) and choices == [("", "—"), ("a1", "<李>"), ("b2", "张"), ("c3", "王")]
    assert choices.tags == '<option value="">—</option>' + people.tags

    class Fast(Form):
        one = OptionsSelectField("One")
        many = OptionsSelectMultipleField("Many")

    class Plain(Form):
        one = SelectField("One")
        many = SelectMultipleField("Many")

    for data in ({"one": "b2", "many": ["a1", "c3"]}, {"one": "", "many": []}):
        fast, plain = Fast(data=data), Plain(data=data)
        for form in (fast, plain):
            form.one.choices, form.many.choices = choices, people
        for name in ("one", "many"):
            chosen = lambda html: [tag for tag in html.split("<option")[1:] if "selected" in tag]  # noqa: E731
            fast_html, plain_html = str(fast[name](size=3)), str(plain[name](size=3))
            assert fast_html.startswith(f'<select id="{name}"') and 'size="3"' in fast_html
            assert len(chosen(fast_html)) == len(chosen(plain_html)) == (
                len(data["many"]) if name == "many" else 1)  # "" marks the blank choice
            for value in data["many"] if name == "many" else [data["one"]]:
                assert f'<option value="{value}" selected>' in fast_html
        assert "&lt;李&gt;" in str(fast.one()) and "<李>" not in str(fast.one())
        assert 'multiple' in str(fast.many())
