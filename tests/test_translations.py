"""Chinese first: every user-facing string in the code has a zh_CN translation."""
import os
import subprocess
import sys

from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_msgid_has_a_chinese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = os.path.join(os.path.dirname(sys.executable), "pybabel")
    subprocess.run([pybabel, "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
                    "-o", str(pot), "."], cwd=ROOT, check=True, capture_output=True)
    with open(pot, "rb") as f:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(f) if m.id}
    with open(os.path.join(ROOT, "translations", "zh", "LC_MESSAGES", "messages.po"), "rb") as f:
        catalog = read_po(f, locale="zh")
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and m.string and not m.fuzzy}
    missing = sorted(wanted - translated)
    assert not missing, "untranslated (run scripts/i18n.py update after adding them to " \
                        "translations/pending/*.tsv): " + "; ".join(missing[:20])


def test_pages_are_chinese_by_default_and_english_on_request(login):
    client = login("staff")
    page = client.get("/commissioners/").get_data(as_text=True)
    assert "新增科技特派员" in page and "New commissioner" not in page
    client.post("/language", data={"lang": "en", "next": "/commissioners/"})
    page = client.get("/commissioners/").get_data(as_text=True)
    assert "New commissioner" in page and "新增科技特派员" not in page


def test_translations_keep_their_placeholders_and_no_stray_percent():
    """Templates %-format every string: a translation with a stray % or a lost
    placeholder would turn a page into an error."""
    import re
    with open(os.path.join(ROOT, "translations", "zh", "LC_MESSAGES", "messages.po"), "rb") as f:
        catalog = read_po(f, locale="zh_CN")
    wrong = []
    for m in catalog:
        if not m.id or not m.string or not isinstance(m.id, str):
            continue
        names = set(re.findall(r"%\((\w+)\)s", m.id))
        if set(re.findall(r"%\((\w+)\)s", m.string)) != names:
            wrong.append(m.id)
            continue
        values = {name: "x" for name in names}
        try:
            m.id % values
        except (ValueError, TypeError, KeyError):
            continue  # a bare % in the English too: never %-formatted, so neither is this
        try:
            m.string % values
        except (ValueError, TypeError, KeyError):
            wrong.append(m.id)
    assert not wrong, wrong


def test_a_forced_language_holds_inside_and_the_pages_language_comes_back_after(app):
    """app/core/i18n.py keeps the request's catalogue: an export in Chinese from an English
    page (force_locale) must translate in Chinese inside, and in English again after,
    strings and lazy labels alike."""
    from flask import session

    from app.core.i18n import force_locale, gettext, lazy_gettext
    label = lazy_gettext("Name")
    with app.test_request_context("/"):
        session["lang"] = "en"
        assert gettext("Name") == "Name" and str(label) == "Name"
        with force_locale("zh_CN"):
            assert gettext("Name") == "名称" and str(label) == "名称"
            with force_locale("en"):
                assert gettext("Name") == "Name"
            assert gettext("Name") == "名称"
        assert gettext("Name") == "Name" and str(label) == "Name"
    with app.test_request_context("/"):
        assert gettext("Name") == "名称", "a new request starts from its own language"


def test_the_datetime_filter_writes_what_babel_writes(app):
    """templating.local_datetime formats the numeric patterns by strftime: the same text as
    Flask-Babel's filter, in the station's zone and in one with summer time."""
    from datetime import UTC, datetime, timedelta, timezone

    from flask_babel import format_datetime

    from app import create_app
    from app.web.templating import _STRFTIME, local_datetime
    from tests.settings import TEST_CONFIG
    times = [datetime(2026, 3, 29, 0, 59, 59), datetime(2026, 3, 29, 1, 0, 1),
             datetime(2026, 10, 25, 0, 30), datetime(2026, 12, 31, 16, 0, 0, 999999),
             datetime(1999, 1, 1, 23, 59), datetime(2026, 6, 1, 12, 0, tzinfo=UTC),
             datetime(2026, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=-5)))]
    berlin = create_app({**TEST_CONFIG, "BABEL_DEFAULT_TIMEZONE": "Europe/Berlin",
                         "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for each in (app, berlin):
        with each.test_request_context("/"):
            for pattern in [*_STRFTIME, "medium"]:
                for moment in times:
                    assert local_datetime(moment, pattern) == format_datetime(moment, pattern), \
                        (each.config["BABEL_DEFAULT_TIMEZONE"], pattern, moment)
    with berlin.test_request_context("/"):
        assert local_datetime(datetime(2026, 7, 1, 10, 0), "yyyy-MM-dd HH:mm") == "2026-07-01 12:00"
