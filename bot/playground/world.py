"""Who is on the playground page: the demo estate's residents, department groups with two
technicians each, and the managers' chat, all as users and chats of the emulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from bot.domain.permissions import Role
from bot.emulator.server import FakeTelegram
from bot.estate import EstateSpec, load_estate

DEMO_ESTATE = Path(str(files("bot").joinpath("demo_estate.toml")))
RESIDENT_IDS = 7001  # Telegram user ids of the demo residents: 7001, 7002, ... in file order
NEW_RESIDENT_IDS = 7501  # residents registered on the page get ids from here on
# The Telegram language_code each demo resident's app sends, when it is not English.
RESIDENT_LANGUAGES = {
    "+447700900015": "zh-hans",
    "+447700900016": "ru",
    "+447700900018": "zh-hant",
    "+447700900019": "ru",
}
STAFF_LANGUAGES = {"ru": "ru", "zh_Hans": "zh-hans", "zh_Hant": "zh-hant", "en": "en"}
LANGUAGE_CODES = ("en", "zh-hans", "zh-hant", "ru")


@dataclass
class Participant:
    id: int
    name: str
    language: str
    phone: str | None = None
    place: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "phone": self.phone,
            "place": self.place,
        }


@dataclass
class Department:
    code: str
    name: str
    chat_id: int
    thread_id: int | None
    technicians: list[Participant]

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "chat_id": self.chat_id,
            "thread_id": self.thread_id,
            "technicians": [t.to_json() for t in self.technicians],
        }


@dataclass
class World:
    spec: EstateSpec
    residents: list[Participant]
    departments: list[Department]
    managers_chat_id: int
    managers: list[Participant]
    staff: list[Participant]
    new_residents: list[Participant] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "estate": self.spec.name,
            "timezone": self.spec.timezone,
            "residents": [r.to_json() for r in self.residents + self.new_residents],
            "departments": [d.to_json() for d in self.departments],
            "managers": {
                "chat_id": self.managers_chat_id,
                "people": [m.to_json() for m in self.managers],
            },
            "languages": list(LANGUAGE_CODES),
        }

    def known(self, user_id: int) -> bool:
        return any(p.id == user_id for p in self.residents + self.new_residents + self.staff)

    def add_resident(self, tg: FakeTelegram, name: str, phone: str, language: str) -> Participant:
        taken = {p.id for p in self.new_residents}
        user_id = NEW_RESIDENT_IDS + len(taken)
        while user_id in taken or user_id in tg.users:
            user_id += 1
        person = Participant(user_id, name, language, phone)
        self.new_residents.append(person)
        tg.add_user(user_id, name, language, phone=phone)
        return person


def load_world(path: Path = DEMO_ESTATE) -> World:
    spec = load_estate(path)
    residents = [
        Participant(
            RESIDENT_IDS + index,
            entry.name,
            RESIDENT_LANGUAGES.get(entry.phone, "en"),
            entry.phone,
            f"{entry.building}-{entry.flat}",
        )
        for index, entry in enumerate(spec.residents)
    ]
    default = STAFF_LANGUAGES.get(spec.language, "en")
    staff = [
        Participant(s.telegram_id, s.name, STAFF_LANGUAGES.get(s.language or "", default))
        for s in spec.staff
    ]
    by_id = {p.id: p for p in staff}
    departments: list[Department] = []
    for department in spec.departments:
        if department.chat_id is None:
            continue  # no group to show
        members = [s for s in spec.staff if department.code in s.departments]
        ordered = [s for s in members if s.role is Role.TECHNICIAN] + [
            s for s in members if s.role is Role.DISPATCHER
        ]
        departments.append(
            Department(
                department.code,
                department.name,
                department.chat_id,
                department.thread_id,
                [by_id[s.telegram_id] for s in ordered[:2]],
            )
        )
    managers = [by_id[s.telegram_id] for s in spec.staff if s.role in (Role.MANAGER, Role.ADMIN)]
    if spec.managers_chat_id is None:
        raise ValueError("the playground estate needs managers_chat_id")
    return World(spec, residents, departments, spec.managers_chat_id, managers, staff)


def populate(tg: FakeTelegram, world: World) -> None:
    """Users and groups in the emulator. Everybody has opened the bot already (a fresh
    emulator over an old database must not look like a crowd that blocked the bot)."""
    for person in world.residents:
        tg.add_user(person.id, person.name, person.language, phone=person.phone)
    for person in world.staff:
        tg.add_user(person.id, person.name, person.language)
    groups: dict[int, list[Department]] = {}
    for department in world.departments:
        groups.setdefault(department.chat_id, []).append(department)
    for chat_id, departments in groups.items():
        forum = any(d.thread_id is not None for d in departments)
        title = " / ".join(d.name for d in departments)
        chat = tg.add_group(chat_id, title, forum=forum)
        for department in departments:
            for technician in department.technicians:
                chat.members[technician.id] = "member"
    managers = tg.add_group(world.managers_chat_id, f"{world.spec.name} managers")
    for person in world.managers:
        managers.members[person.id] = "member"
