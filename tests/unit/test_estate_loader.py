"""The estate file: parsing, validation, and where problems are reported."""

import dataclasses
from datetime import date, time
from pathlib import Path

import pytest

from bot.domain.kinds import Hazard, Priority, TicketKind
from bot.domain.permissions import Role
from bot.domain.spans import Span, parse_span
from bot.estate import (
    DEFAULT_QUIET_WINDOWS,
    DEFAULT_STANDARDS,
    CalendarSpec,
    ClockSpec,
    EstateFileError,
    EstateIssue,
    EstateSpec,
    StandardName,
    StandardSpec,
    load_estate,
    normalise_phone,
    parse_estate,
    phone_digits,
    phones_match,
)

FILES = Path(__file__).parent / "estate_files"
ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """\
[estate]
slug = "test-estate"
name = "Test Estate"
timezone = "Europe/London"
customer_service = "service"

[[buildings]]
code = "A"
name = "Block A"
flats = ["1-3", "PH"]

[[departments]]
code = "plumbing"
name = "Plumbing"

[[departments]]
code = "service"
name = "Customer service"

[[categories]]
code = "leak"
name = "Leak"
kind = "repair"
department = "plumbing"
"""


def errors_of(text: str, base_dir: Path | None = None) -> list[EstateIssue]:
    with pytest.raises(EstateFileError) as info:
        parse_estate(text, source="estate.toml", base_dir=base_dir)
    return info.value.errors


def only(errors: list[EstateIssue], key: str) -> EstateIssue:
    found = [e for e in errors if e.key == key]
    assert len(found) == 1, f"expected one issue at {key}, got {[str(e) for e in errors]}"
    return found[0]


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """The 1-based line holding the ``occurrence``-th line that contains ``fragment``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[occurrence - 1]


# --- valid files ------------------------------------------------------------------------------


def test_minimal_file_gets_every_default() -> None:
    spec = parse_estate(MINIMAL)

    assert spec.slug == "test-estate"
    assert spec.language == "en"
    assert spec.managers_chat_id is None
    assert spec.max_open_requests == 10
    assert spec.invite_ttl == parse_span("7d")
    assert dict(spec.emergency_numbers) == {}
    assert spec.calendar == CalendarSpec(
        weekdays=frozenset({0, 1, 2, 3, 4}), opens=time(9), closes=time(18), holidays=frozenset()
    )
    assert spec.quiet_hours == ((time(21), time(8)), (time(12), time(13, 30)))
    assert spec.quiet_hours == DEFAULT_QUIET_WINDOWS
    assert set(spec.standards) == set(StandardName)
    assert spec.standards[StandardName.REPAIR_EMERGENCY] == StandardSpec(
        claim=parse_span("5m"), on_site=parse_span("15m"), resolve=parse_span("4h")
    )
    assert spec.standards[StandardName.COMPLAINT] == StandardSpec(
        claim=parse_span("4h"), resolve=Span(working_days=4)
    )
    assert spec.standards[StandardName.PRAISE] == StandardSpec(claim=Span(working_days=1))
    assert dict(spec.standards) == dict(DEFAULT_STANDARDS)
    assert spec.clock == ClockSpec(
        resolved_reminder=parse_span("24h"),
        auto_close=parse_span("72h"),
        poll_reminder=parse_span("24h"),
        poll_expiry=parse_span("7d"),
        callback_due=parse_span("48h"),
        tick=parse_span("30s"),
        digest_at=time(9),
    )
    assert spec.buildings[0].flats == ("1", "2", "3", "PH")
    assert spec.staff == ()
    assert spec.residents == ()


def test_valid_file_round_trip() -> None:
    spec = load_estate(FILES / "valid.toml")

    assert (spec.slug, spec.name, spec.timezone, spec.language) == (
        "test-court",
        "Test Court",
        "Asia/Shanghai",
        "zh_Hans",
    )
    assert str(spec.zone) == "Asia/Shanghai"
    assert spec.managers_chat_id == -1002000000009
    assert spec.customer_service == "service"
    assert spec.max_open_requests == 3
    assert spec.invite_ttl == Span(seconds=2 * 86400)
    assert dict(spec.emergency_numbers) == {Hazard.GAS: "0800 111 999", Hazard.FIRE: "119"}

    assert spec.calendar.weekdays == frozenset(range(6))
    assert (spec.calendar.opens, spec.calendar.closes) == (time(8, 30), time(17, 30))
    assert spec.calendar.holidays == {date(2026, 10, 1), date(2026, 10, 2)}
    assert spec.quiet_hours == ((time(22), time(7)),)

    # [standards] overrides limit by limit; the rest stays at the regulation defaults
    assert spec.standards[StandardName.REPAIR_NORMAL] == StandardSpec(
        claim=parse_span("30m"), resolve=parse_span("48h")
    )
    assert spec.standards[StandardName.COMPLAINT] == StandardSpec(
        claim=parse_span("2h"), resolve=Span(working_days=4)
    )
    assert spec.standards[StandardName.PRAISE] == StandardSpec(
        claim=Span(working_days=1), resolve=Span(working_days=3)
    )
    assert spec.standards[StandardName.QUESTION] == DEFAULT_STANDARDS[StandardName.QUESTION]

    assert spec.clock.resolved_reminder == Span(seconds=12 * 3600)
    assert spec.clock.auto_close == Span(seconds=86400)
    assert spec.clock.tick == Span(seconds=10)
    assert spec.clock.poll_expiry == parse_span("7d")
    assert spec.clock.digest_at == time(8, 15)

    north, south = spec.buildings
    assert (north.code, north.name, north.flats) == ("N", "North", ("01", "02", "03", "PH"))
    assert south.flats == ("1", "2", "10")

    plumbing, service = spec.departments
    assert (plumbing.code, plumbing.chat_id, plumbing.thread_id) == ("plumbing", -1002000000001, 7)
    assert (service.name, service.chat_id, service.thread_id) == ("Service desk", None, None)

    flooding = spec.category("flooding")
    assert flooding is not None
    assert flooding.kind is TicketKind.REPAIR
    assert flooding.emergency and flooding.hazard is Hazard.WATER
    assert flooding.priority is Priority.EMERGENCY  # implied by emergency = true
    assert flooding.label("ru") == "Затопление"
    assert flooding.label("zh_Hant") == "Flooding"
    assert flooding.standard_name is StandardName.REPAIR_EMERGENCY
    assert spec.standard_for(flooding) == StandardSpec(
        claim=parse_span("5m"), on_site=parse_span("10m"), resolve=parse_span("4h")
    )
    names = {c.code: c.standard_name for c in spec.categories}
    assert names == {
        "flooding": StandardName.REPAIR_EMERGENCY,
        "tap": StandardName.REPAIR_SIMPLE,
        "drain": StandardName.REPAIR_NORMAL,
        "noise": StandardName.COMPLAINT,
        "thanks": StandardName.PRAISE,
    }

    technician, manager = spec.staff
    assert technician.telegram_id == 501 and technician.role is Role.TECHNICIAN
    assert technician.departments == ("plumbing",) and technician.language == "zh_Hans"
    assert manager.role is Role.MANAGER and manager.departments == () and manager.language is None

    assert [(r.name, r.phone, r.building, r.flat) for r in spec.residents] == [
        ("Inline Resident", "+8613800000001", "S", "10"),
        ("CSV One", "+8613800000002", "N", "01"),
        ("CSV, Two", "8613800000003", "N", "PH"),
    ]
    found = spec.resident_by_phone("+86 138 0000 0003")
    assert found is not None and found.name == "CSV, Two"

    # immutable and reproducible
    assert load_estate(FILES / "valid.toml") == spec
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.name = "Other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.standards[StandardName.PRAISE] = StandardSpec()  # type: ignore[index]
    assert isinstance(spec.buildings, tuple) and isinstance(spec.residents, tuple)


@pytest.mark.parametrize("name", ["estate.example.toml", "bot/demo_estate.toml"])
def test_shipped_estate_files_load(name: str) -> None:
    spec = load_estate(ROOT / name)

    assert len(spec.buildings) == 2
    assert {d.code for d in spec.departments} == {
        "plumbing",
        "electrical",
        "maintenance",
        "cleaning",
        "security",
        "customer_service",
    }
    hazards = {c.hazard for c in spec.categories if c.emergency}
    assert hazards == set(Hazard)
    assert {c.kind for c in spec.categories} == set(TicketKind)
    assert any(c.simple for c in spec.categories)
    assert spec.staff
    assert len(spec.residents) >= 10
    assert all(r.phone.startswith("+447700900") for r in spec.residents)


def test_example_resident_csv_is_read_relative_to_the_estate_file() -> None:
    spec = load_estate(ROOT / "estate.example.toml")
    alice = spec.resident_by_phone("447700900001")
    assert alice is not None and (alice.building, alice.flat) == ("A", "101")


def test_empty_quiet_hours_mean_never_quiet() -> None:
    spec = parse_estate(MINIMAL + "\n[quiet_hours]\nwindows = []\n")
    assert spec.quiet_hours == ()


def test_calendar_accepts_toml_dates_and_full_day_names() -> None:
    spec = parse_estate(
        MINIMAL + '\n[calendar]\nweekdays = ["Saturday", "sun"]\nholidays = [2026-12-25]\n'
    )
    assert spec.calendar.weekdays == {5, 6}
    assert spec.calendar.holidays == {date(2026, 12, 25)}


# --- errors -----------------------------------------------------------------------------------


def test_syntax_error_reports_tomllib_line_and_column() -> None:
    text = MINIMAL.replace('name = "Plumbing"', 'name = "Plumbing')
    errors = errors_of(text)

    assert len(errors) == 1
    issue = errors[0]
    assert issue.line == line_of(text, 'name = "Plumbing')
    assert issue.column is not None
    assert issue.key == ""
    assert "TOML syntax error" in issue.message
    assert str(issue).startswith(f"estate.toml:{issue.line}: TOML syntax error")


def test_unknown_key_is_reported_with_its_line_and_a_suggestion() -> None:
    text = MINIMAL.replace('kind = "repair"', 'kind = "repair"\ndepartmnet = "plumbing"')
    issue = only(errors_of(text), "categories[0].departmnet")

    assert issue.line == line_of(text, "departmnet")
    assert 'unknown key "departmnet"' in issue.message
    assert 'did you mean "department"?' in issue.message


def test_unknown_top_level_table_is_reported() -> None:
    text = MINIMAL + '\n[calender]\nhours = "09:00-17:00"\n'
    issue = only(errors_of(text), "calender")
    assert issue.line == line_of(text, "[calender]")
    assert 'did you mean "calendar"?' in issue.message


def test_top_level_key_after_a_table_gets_a_hint() -> None:
    text = MINIMAL + 'residents_csv = "residents.csv"\n'
    issue = only(errors_of(text), "categories[0].residents_csv")
    assert "before the first [table]" in issue.message


def test_bad_reference_points_at_the_nth_array_table() -> None:
    extra = "".join(
        f'\n[[categories]]\ncode = "c{n}"\nname = "C{n}"\nkind = "question"\n'
        f'department = "{"plumbng" if n == 3 else "service"}"\n'
        for n in (1, 2, 3)
    )
    text = MINIMAL + extra
    issue = only(errors_of(text), "categories[3].department")

    assert issue.line == line_of(text, 'department = "plumbng"')
    assert issue.path == "estate.toml"
    assert str(issue) == (
        f"estate.toml:{issue.line}: categories[3].department: "
        'unknown department "plumbng" (known: plumbing, service)'
    )


def test_missing_required_key_points_at_its_table_header() -> None:
    text = MINIMAL + '\n[[categories]]\ncode = "other"\nkind = "question"\ndepartment = "service"\n'
    issue = only(errors_of(text), "categories[1].name")
    assert issue.line == line_of(text, "[[categories]]", occurrence=2)
    assert issue.message == "required key is missing"


def test_customer_service_must_be_a_department() -> None:
    text = MINIMAL.replace('customer_service = "service"', 'customer_service = "help"')
    issue = only(errors_of(text), "estate.customer_service")
    assert issue.line == line_of(text, 'customer_service = "help"')
    assert 'unknown department "help"' in issue.message


def test_duplicate_flat_is_an_error() -> None:
    text = MINIMAL.replace('flats = ["1-3", "PH"]', 'flats = [\n  "1-3",\n  "PH",\n  "2",\n]')
    issue = only(errors_of(text), "buildings[0].flats[2]")
    assert issue.line == line_of(text, '"2",')
    assert 'duplicate flat "2" in building "A"' in issue.message


def test_overlapping_ranges_and_backwards_ranges() -> None:
    text = MINIMAL.replace('["1-3", "PH"]', '["1-10", "8-12", "9-3"]')
    errors = errors_of(text)
    assert "8" in only(errors, "buildings[0].flats[1]").message
    assert "backwards" in only(errors, "buildings[0].flats[2]").message


def test_bad_span_reports_the_span_parser_message() -> None:
    text = MINIMAL + '\n[standards]\ncomplaint = { claim = "4 hourz" }\n'
    issue = only(errors_of(text), "standards.complaint.claim")
    assert issue.line == line_of(text, "complaint = {")
    with pytest.raises(ValueError) as expected:
        parse_span("4 hourz")
    assert issue.message == str(expected.value)


def test_working_days_are_rejected_for_clock_timers() -> None:
    issue = only(errors_of(MINIMAL + '\n[clock]\ntick = "1wd"\n'), "clock.tick")
    assert "working days are not allowed" in issue.message


def test_bad_time_zone() -> None:
    text = MINIMAL.replace('"Europe/London"', '"Europe/Londn"')
    issue = only(errors_of(text), "estate.timezone")
    assert issue.line == line_of(text, "timezone")
    assert 'unknown time zone "Europe/Londn"' in issue.message


@pytest.mark.parametrize(
    ("section", "key", "words"),
    [
        ('[calendar]\nhours = "18:00-09:00"', "calendar.hours", "open before they close"),
        ('[calendar]\nhours = "9-5"', "calendar.hours", "HH:MM-HH:MM"),
        ('[calendar]\nweekdays = ["mon", "mun"]', "calendar.weekdays[1]", 'weekday "mun"'),
        ("[calendar]\nweekdays = []", "calendar.weekdays", "at least one"),
        ('[calendar]\nholidays = ["2026-02-30"]', "calendar.holidays[0]", "YYYY-MM-DD"),
        ('[quiet_hours]\nwindows = ["24:00-06:00"]', "quiet_hours.windows[0]", "HH:MM-HH:MM"),
        ('[quiet_hours]\nwindows = ["08:00-08:00"]', "quiet_hours.windows[0]", "same time"),
        (
            '[quiet_hours]\nwindows = ["08:00-20:00", "20:00-08:00"]',
            "quiet_hours.windows",
            "whole day",
        ),
        ('[clock]\ndigest_at = "9am"', "clock.digest_at", "time of day"),
        ('[standards]\nquestion = { on_site = "1h" }', "standards.question.on_site", "repairs"),
    ],
)
def test_hours_windows_and_dates_are_validated(section: str, key: str, words: str) -> None:
    text = MINIMAL + "\n" + section + "\n"
    issue = only(errors_of(text), key)
    assert words in issue.message
    assert issue.line is not None


def test_languages_are_checked() -> None:
    text = MINIMAL.replace('timezone = "Europe', 'language = "fr"\ntimezone = "Europe')
    text += '\n[[staff]]\ntelegram_id = 1\nname = "A"\nrole = "admin"\nlanguage = "zh-Hans"\n'
    text = text.replace('name = "Leak"', 'name = "Leak"\nnames = { de = "Leck" }')
    errors = errors_of(text)
    assert "unknown language" in only(errors, "estate.language").message
    assert "unknown language" in only(errors, "staff[0].language").message
    assert "zh_Hans" in only(errors, "categories[0].names.de").message


def test_emergency_categories_need_a_hazard_and_repair_kind() -> None:
    text = MINIMAL.replace('department = "plumbing"', 'department = "plumbing"\nemergency = true')
    text += (
        '\n[[categories]]\ncode = "loud"\nname = "Loud"\nkind = "complaint"\n'
        'department = "service"\nsimple = true\n'
        '\n[[categories]]\ncode = "fire"\nname = "Fire"\nkind = "repair"\n'
        'department = "service"\nemergency = true\nhazard = "fire"\npriority = "normal"\n'
    )
    errors = errors_of(text)
    assert "needs a hazard" in only(errors, "categories[0].hazard").message
    assert "only repair categories" in only(errors, "categories[1].simple").message
    assert "priority" in only(errors, "categories[2].priority").message


def test_uniqueness_of_codes_and_ids() -> None:
    text = MINIMAL + (
        '\n[[buildings]]\ncode = "A"\nname = "Again"\nflats = ["1"]\n'
        '\n[[departments]]\ncode = "plumbing"\nname = "Again"\n'
        '\n[[categories]]\ncode = "leak"\nname = "Again"\nkind = "repair"\n'
        'department = "plumbing"\n'
        '\n[[staff]]\ntelegram_id = 7\nname = "A"\nrole = "admin"\n'
        '\n[[staff]]\ntelegram_id = 7\nname = "B"\nrole = "manager"\n'
    )
    errors = errors_of(text)
    building = only(errors, "buildings[1].code")
    assert 'duplicate building code "A"' in building.message
    first_line = line_of(text, 'code = "A"')
    assert f"(first used at buildings[0].code, line {first_line})" in building.message
    assert "duplicate department code" in only(errors, "departments[2].code").message
    assert "duplicate category code" in only(errors, "categories[1].code").message
    assert "duplicate telegram_id 7" in only(errors, "staff[1].telegram_id").message


def test_staff_references_and_roles() -> None:
    text = MINIMAL + (
        '\n[[staff]]\ntelegram_id = 1\nname = "Tech"\nrole = "technician"\n'
        '\n[[staff]]\ntelegram_id = 2\nname = "X"\nrole = "boss"\ndepartments = ["plumbing"]\n'
        '\n[[staff]]\ntelegram_id = -3\nname = "Y"\nrole = "dispatcher"\n'
        'departments = ["plumbing", "heating"]\n'
    )
    errors = errors_of(text)
    assert "at least one department" in only(errors, "staff[0].departments").message
    assert 'unknown role "boss"' in only(errors, "staff[1].role").message
    assert "positive" in only(errors, "staff[2].telegram_id").message
    assert 'unknown department "heating"' in only(errors, "staff[2].departments[1]").message


def test_department_ids_must_look_like_groups() -> None:
    text = MINIMAL.replace('name = "Plumbing"', 'name = "Plumbing"\nchat_id = 42')
    text = text.replace('name = "Customer service"', 'name = "Customer service"\nthread_id = 3')
    errors = errors_of(text)
    assert "negative" in only(errors, "departments[0].chat_id").message
    assert "needs the chat_id" in only(errors, "departments[1].thread_id").message


def test_type_errors_name_the_expected_type() -> None:
    text = MINIMAL.replace('flats = ["1-3", "PH"]', 'flats = "1-3"')
    text = text.replace('name = "Plumbing"', "name = 5")
    errors = errors_of(text)
    assert only(errors, "buildings[0].flats").message == 'expected an array, got a string ("1-3")'
    assert only(errors, "departments[0].name").message == "expected a string, got an integer (5)"


def test_inline_residents_are_validated() -> None:
    text = MINIMAL + (
        '\n[[residents]]\nname = "One"\nphone = "+44 7700 900001"\nbuilding = "A"\nflat = "PH"\n'
        '\n[[residents]]\nname = "Two"\nphone = "447700900001"\nbuilding = "A"\nflat = 9\n'
        '\n[[residents]]\nname = "Three"\nphone = "call me"\nbuilding = "Q"\nflat = "1"\n'
    )
    errors = errors_of(text)
    duplicate = only(errors, "residents[1].phone")
    assert duplicate.line == line_of(text, 'phone = "447700900001"')
    assert "duplicate phone 447700900001" in duplicate.message
    first_line = line_of(text, "[[residents]]")
    assert f"(first used at residents[0], line {first_line})" in duplicate.message
    assert only(errors, "residents[1].flat").message == 'no flat "9" in building "A"'
    assert "not a phone number" in only(errors, "residents[2].phone").message
    assert 'unknown building "Q" (known: A)' in only(errors, "residents[2].building").message


def test_bad_csv_rows_name_the_csv_file_and_line() -> None:
    text = 'residents_csv = "bad_residents.csv"\n' + MINIMAL.replace('["1-3", "PH"]', '["101-105"]')
    errors = errors_of(text, base_dir=FILES)
    csv_path = str(FILES / "bad_residents.csv")

    assert all(e.path == csv_path for e in errors)
    found = {(e.line, e.key) for e in errors}
    assert found == {(3, "phone"), (4, "flat"), (5, ""), (6, "phone"), (7, "building")}
    by_line = {e.line: e for e in errors}
    assert str(by_line[4]) == f'{csv_path}:4: flat: no flat "999" in building "A"'
    assert by_line[5].message == "expected 4 fields, found 5"
    assert by_line[6].message == "duplicate phone +447700900101 (first used at line 2)"
    # the row on line 7 has a quoted name spanning two lines; it is reported where it starts
    assert 'unknown building "Z"' in by_line[7].message


def test_csv_header_problems(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("name,phone,buiding,flat\nA,+447700900001,A,1\n")
    text = 'residents_csv = "r.csv"\n' + MINIMAL
    issue = only(errors_of(text, base_dir=tmp_path), "")
    assert issue.path == str(tmp_path / "r.csv") and issue.line == 1
    assert 'missing column "building"' in issue.message
    assert 'unknown column "buiding"' in issue.message


def test_missing_csv_file_is_reported_at_the_key(tmp_path: Path) -> None:
    text = MINIMAL.replace("[estate]", 'residents_csv = "nope.csv"\n\n[estate]')
    issue = only(errors_of(text, base_dir=tmp_path), "residents_csv")
    assert issue.line == 1 and "cannot read" in issue.message


def test_sections_are_required() -> None:
    errors = errors_of("# nothing here\n")
    assert {e.key for e in errors} == {"estate", "buildings", "departments", "categories"}
    assert all(e.line is None for e in errors)
    assert str(only(errors, "buildings")) == (
        "estate.toml: buildings: at least one [[buildings]] entry is required"
    )


def test_multiple_errors_are_collected_together() -> None:
    text = (
        MINIMAL.replace('"Europe/London"', '"Mars/Olympus"')
        .replace('flats = ["1-3", "PH"]', 'flats = ["1-3", "3"]')
        .replace('department = "plumbing"', 'department = "plumbng"\ncolour = "red"')
        + '\n[clock]\ntick = "soon"\n'
    )
    errors = errors_of(text)

    assert [e.key for e in errors] == [
        "estate.timezone",
        "buildings[0].flats[1]",
        "categories[0].department",
        "categories[0].colour",
        "clock.tick",
    ]
    assert [e.line for e in errors] == sorted(e.line or 0 for e in errors)
    message = str(EstateFileError(errors))
    assert message.startswith("estate file has 5 problems:")
    assert all(str(e) in message for e in errors)


def test_load_estate_reports_an_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.toml"
    with pytest.raises(EstateFileError) as info:
        load_estate(path)
    (issue,) = info.value.errors
    assert issue.path == str(path) and issue.line is None
    assert str(issue).startswith(f"{path}: cannot read")


def test_estate_spec_lookups() -> None:
    spec = parse_estate(MINIMAL)
    assert isinstance(spec, EstateSpec)
    building = spec.building("A")
    assert building is not None and building.has_flat("PH") and not building.has_flat("4")
    assert spec.department("service") is not None and spec.department("nope") is None
    category = spec.category("leak")
    assert category is not None
    assert spec.standard_for(category) == DEFAULT_STANDARDS[StandardName.REPAIR_NORMAL]


# --- phones -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("+44 7700 900001", "+447700900001"),
        ("+44 (7700) 900-001", "+447700900001"),
        ("447700900001", "447700900001"),
        (" 07700 900001 ", "07700900001"),
        ("123456", "123456"),
        ("12345", None),
        ("", None),
        ("+", None),
        ("44+7700900001", None),
        ("++447700900001", None),
        ("+44 7700 9000x1", None),
        ("+44.7700.900001", None),
        ("1234567890123456", None),
    ],
)
def test_normalise_phone(raw: str, normal: str | None) -> None:
    assert normalise_phone(raw) == normal


def test_phones_are_compared_on_digits() -> None:
    assert phone_digits("+44 7700 900001") == "447700900001"
    assert phones_match("+44 7700 900001", "447700900001")
    assert not phones_match("+44 7700 900001", "+44 7700 900002")
    assert not phones_match("nonsense", "nonsense")
