"""The translation catalogs: every string on the pages is in them, translated into Chinese, and compiled."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "pipeline" / "translations"
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}  # as babel.cfg's extract command says
LOCALES = ("zh", "en")


def catalog(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=locale)


def messages(cat: Catalog) -> dict[object, object]:
    return {m.id: m.string for m in cat if m.id}


def test_every_chinese_msgid_has_a_translation() -> None:
    untranslated = [m.id for m in catalog("zh") if m.id and (not m.string or m.fuzzy)]
    assert untranslated == []


def test_translations_keep_the_placeholders_of_their_msgid() -> None:
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog("zh").check() if errors]
    assert problems == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_is_current(locale: str) -> None:
    source = catalog(locale)
    compiled = BytesIO()
    write_mo(compiled, source)
    compiled.seek(0)
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        shipped = read_mo(f)
    assert messages(shipped) == messages(read_mo(compiled)), f"run: pybabel compile -d {TRANSLATIONS}"


def test_every_string_marked_in_the_code_and_templates_is_in_the_catalogs() -> None:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    marked = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS
        )
    }
    assert marked, "nothing extracted: is babel.cfg pointing at the sources?"
    for locale in LOCALES:
        missing = sorted(marked - set(messages(catalog(locale))))
        assert missing == [], f"{locale}: extract and update the catalogs (see babel.cfg)"
