"""gettext catalogs under ``locales/``, compiled in memory from the .po files at start-up."""

import gettext as gettext_module
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES = ("en", "zh_Hans", "zh_Hant", "ru")
DEFAULT_LOCALE = "en"
DOMAIN = "messages"


def _locales_dir() -> Path:
    """Beside the code in a checkout; in the working directory for an installed package."""
    beside = Path(__file__).resolve().parent.parent / "locales"
    return beside if beside.is_dir() else Path.cwd() / "locales"


LOCALES_DIR = _locales_dir()

Gettext = Callable[[str], str]

_ALIASES = {
    "zh-hant": "zh_Hant",
    "zh-tw": "zh_Hant",
    "zh-hk": "zh_Hant",
    "zh-mo": "zh_Hant",
    "zh": "zh_Hans",
    "zh-hans": "zh_Hans",
    "zh-cn": "zh_Hans",
    "zh-sg": "zh_Hans",
    "ru": "ru",
    "en": "en",
}


def locale_for(language_code: str | None) -> str:
    """Map a Telegram ``language_code`` to one of our locales (English otherwise)."""
    if not language_code:
        return DEFAULT_LOCALE
    code = language_code.strip().lower().replace("_", "-")
    if code in _ALIASES:
        return _ALIASES[code]
    base = code.split("-", 1)[0]
    if base == "zh":
        return "zh_Hant" if "hant" in code else "zh_Hans"
    return _ALIASES.get(base, DEFAULT_LOCALE)


def load_catalogs(path: Path, domain: str = DOMAIN) -> dict[str, gettext_module.GNUTranslations]:
    """Compile each locale's .po file in memory, so no compiled .mo files are committed."""
    translations: dict[str, gettext_module.GNUTranslations] = {}
    for locale in LOCALES:
        po_path = path / locale / "LC_MESSAGES" / f"{domain}.po"
        if not po_path.exists():
            continue
        with po_path.open("rb") as source:
            catalog = read_po(source, locale=locale, domain=domain)
        buffer = BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        translations[locale] = gettext_module.GNUTranslations(buffer)
    return translations


class CatalogI18n(I18n):
    """aiogram's I18n reading .po sources. aiogram's helpers (``gettext``, lazy strings) look
    the instance up in I18n's context variable, so ``context`` sets that one, not a subclass's."""

    def find_locales(self) -> dict[str, gettext_module.GNUTranslations]:
        return load_catalogs(self.path, self.domain)

    @contextmanager
    def context(self) -> Iterator[I18n]:
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)


def make_i18n(path: Path = LOCALES_DIR) -> CatalogI18n:
    return CatalogI18n(path=path, default_locale=DEFAULT_LOCALE, domain=DOMAIN)


class Translator:
    """Locale-bound gettext for code that renders text outside a handler (services, jobs)."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    def for_locale(self, locale: str) -> Gettext:
        chosen = locale if locale in LOCALES else DEFAULT_LOCALE

        def _(message: str) -> str:
            return self.i18n.gettext(message, locale=chosen)

        return _
