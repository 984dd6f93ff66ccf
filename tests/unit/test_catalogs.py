"""Every user-visible string ships in every locale, with its placeholders and tags intact."""

import re

import pytest
from babel.messages.pofile import read_po

from bot.catalogs import extract, po_path
from bot.i18n import LOCALES

PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
TAG = re.compile(r"</?[a-z]+>")
SAME_EVERYWHERE: set[str] = set()


def catalog(locale: str):  # type: ignore[no-untyped-def]
    with po_path(locale).open("rb") as source:
        return read_po(source, locale=locale)


@pytest.mark.parametrize("locale", LOCALES)
def test_catalog_is_complete_and_not_fuzzy(locale: str) -> None:
    problems = []
    for message in catalog(locale):
        if not message.id:
            continue
        if not message.string:
            problems.append(f"untranslated: {message.id!r}")
        if locale != "en" and message.string == message.id and message.id not in SAME_EVERYWHERE:
            problems.append(f"still English: {message.id!r}")
        if message.fuzzy:
            problems.append(f"fuzzy: {message.id!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_every_string_in_the_code_is_in_the_catalog(locale: str) -> None:
    known = {m.id for m in catalog(locale) if m.id}
    missing = [m.id for m in extract() if m.id and m.id not in known]
    assert not missing, f"run `python -m bot.catalogs`; missing: {missing}"


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_and_tags(locale: str) -> None:
    for message in catalog(locale):
        if not message.id or not message.string:
            continue
        assert sorted(PLACEHOLDER.findall(message.string)) == sorted(PLACEHOLDER.findall(message.id)), message.id
        assert sorted(TAG.findall(message.string)) == sorted(TAG.findall(message.id)), message.id
