"""Keep the translations whole.

    python scripts/i18n.py update   # extract msgids, update the catalogs, merge
                                    # translations/pending/*.tsv into zh_CN, then delete them
    python scripts/i18n.py check    # list msgids without a Chinese translation (exit 1 if any)

A pending file has one ``msgid<TAB>translation`` per line: how a change brings its
Chinese text without editing the .po file by hand.
"""
import glob
import os
import subprocess
import sys

from babel.messages.pofile import read_po, write_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRANSLATIONS = os.path.join(ROOT, "translations")
POT = os.path.join(TRANSLATIONS, "messages.pot")
ZH = os.path.join(TRANSLATIONS, "zh", "LC_MESSAGES", "messages.po")
PYBABEL = os.path.join(os.path.dirname(sys.executable), "pybabel")


def extract():
    subprocess.run([PYBABEL, "extract", "-F", os.path.join(ROOT, "babel.cfg"),
                    "-k", "_l", "-k", "lazy_gettext", "--no-location", "--sort-output",
                    "-o", POT, ROOT], check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([PYBABEL, "update", "-N", "--ignore-obsolete", "-i", POT,
                    "-d", TRANSLATIONS], check=True, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def pending() -> dict:
    found = {}
    for path in sorted(glob.glob(os.path.join(TRANSLATIONS, "pending", "*.tsv"))):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if "\t" in line:
                    msgid, text = line.rstrip("\n").split("\t", 1)
                    found[msgid.replace("\\n", "\n")] = text.replace("\\n", "\n")
    return found


def catalog():
    with open(ZH, "rb") as f:
        return read_po(f, locale="zh")


def untranslated(cat) -> list[str]:
    missing = []
    for message in cat:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        if not all(strings) or message.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def update():
    extract()
    cat = catalog()
    texts = pending()
    for message in cat:
        key = message.id if isinstance(message.id, str) else message.id[0]
        if key in texts:
            if isinstance(message.id, str):
                message.string = texts[key]
            else:
                message.string = (texts[key],) * 2
            message.flags.discard("fuzzy")
    with open(ZH, "wb") as f:
        write_po(f, cat, width=100, omit_header=False)
    for path in glob.glob(os.path.join(TRANSLATIONS, "pending", "*.tsv")):
        os.remove(path)
    missing = untranslated(cat)
    print(f"{len(texts)} pending translations merged; {len(missing)} msgids untranslated")


def check() -> int:
    missing = untranslated(catalog())
    for msgid in missing:
        print(msgid.replace("\n", "\\n"))
    return 1 if missing else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "update":
        update()
    elif command == "check":
        sys.exit(check())
    else:
        sys.exit(__doc__)
