"""The declarative estate file: buildings, departments, categories, staff and residents.

``load_estate(path)`` reads and validates it into an immutable :class:`EstateSpec`, or raises
:class:`EstateFileError` listing every problem with its file, line and key.
"""

from bot.estate.loader import EstateFileError, EstateIssue, load_estate, parse_estate
from bot.estate.spec import (
    DEFAULT_QUIET_WINDOWS,
    DEFAULT_STANDARDS,
    LANGUAGES,
    BuildingSpec,
    CalendarSpec,
    CategorySpec,
    ClockSpec,
    DepartmentSpec,
    EstateSpec,
    ResidentSpec,
    StaffSpec,
    StandardName,
    StandardSpec,
    normalise_phone,
    phone_digits,
    phones_match,
)

__all__ = [
    "DEFAULT_QUIET_WINDOWS",
    "DEFAULT_STANDARDS",
    "LANGUAGES",
    "BuildingSpec",
    "CalendarSpec",
    "CategorySpec",
    "ClockSpec",
    "DepartmentSpec",
    "EstateFileError",
    "EstateIssue",
    "EstateSpec",
    "ResidentSpec",
    "StaffSpec",
    "StandardName",
    "StandardSpec",
    "load_estate",
    "normalise_phone",
    "parse_estate",
    "phone_digits",
    "phones_match",
]
