"""Catalog maintenance: ``python -m bot.catalogs`` extracts every user-visible string from the
code into ``locales/messages.pot`` and merges it into each locale's ``messages.po``."""

import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALES, LOCALES_DIR

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("bot", "handlers", "schedules")
KEYWORDS = {"_": None, "gettext": None, "tr": None}


def source_files() -> Iterator[Path]:
    for folder in SOURCES:
        yield from sorted((ROOT / folder).rglob("*.py"))


def extract() -> Catalog:
    """Every string passed to ``_``/``gettext``/``tr`` in our code."""
    catalog = Catalog(project="frontdoor", domain=DOMAIN)
    for path in source_files():
        for lineno, message, comments, _context in extract_from_file(
            "python", str(path), keywords=KEYWORDS, comment_tags=("i18n:",)
        ):
            if isinstance(message, str) and message:
                catalog.add(
                    message,
                    locations=[(str(path.relative_to(ROOT)), lineno)],
                    auto_comments=comments,
                )
    return catalog


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update() -> None:
    template = extract()
    LOCALES_DIR.mkdir(exist_ok=True)
    with (LOCALES_DIR / f"{DOMAIN}.pot").open("wb") as out:
        write_po(out, template, omit_header=False, width=0)
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            with path.open("rb") as source:
                catalog = read_po(source, locale=locale, domain=DOMAIN)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, domain=DOMAIN, project="frontdoor")
        catalog.update(template, no_fuzzy_matching=True)
        catalog.fuzzy = False  # Babel marks a new catalog's header fuzzy; ours are reviewed
        if locale == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        with path.open("wb") as out:
            write_po(out, catalog, width=0, ignore_obsolete=True)


if __name__ == "__main__":
    update()
    sys.exit(0)
