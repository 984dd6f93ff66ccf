"""Residents: sign-up by phone, verification by the office, language."""

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from aiogram.types import ReplyKeyboardMarkup
from sqlalchemy import Select, bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.estate.spec import normalise_phone
from bot.services.base import Service
from bot.ui import keyboards
from bot.ui.format import h
from storage import repo
from storage.models import (
    Building,
    Department,
    Estate,
    Flat,
    FsmRecord,
    Invitation,
    RegistryEntry,
    Resident,
    Verification,
)

Standing = Literal["unknown", "unverified", "pending", "verified", "rejected"]


@dataclass
class ResidentInfo:
    standing: Standing
    locale: str
    estate_name: str | None = None
    flat: str | None = None
    building: str | None = None
    unreachable: bool = False


@dataclass
class PhoneOutcome:
    verified: bool
    flat: str | None = None
    building: str | None = None


# What ``ResidentInfo`` holds of a resident: status, language, unreachable, flat, building.
# Columns, not entities: this runs for every update a resident sends, and loading the ORM
# objects with their joined flat and building cost more than the query itself. Built once
# (parameter ``telegram_id``): building it per update cost more than running it.
FIRST_ESTATE_NAME = select(Estate.name).order_by(Estate.id).limit(1)
RESIDENT_COLUMNS: Select[str, str, bool, str, str] = (
    select(Resident.status, Resident.language, Resident.unreachable, Flat.label, Building.name)
    .outerjoin(Flat, Resident.flat_id == Flat.id)
    .outerjoin(Building, Flat.building_id == Building.id)
    .where(Resident.telegram_id == bindparam("telegram_id"))
)


async def resident_info(session: AsyncSession, telegram_id: int) -> ResidentInfo:
    estate_name = await session.scalar(FIRST_ESTATE_NAME)
    row = (await session.execute(RESIDENT_COLUMNS, {"telegram_id": telegram_id})).first()
    if row is None:
        return ResidentInfo("unknown", "en", estate_name)
    status, language, unreachable, flat, building = row
    return ResidentInfo(
        standing=status,  # type: ignore[arg-type]  # a Standing, as the column holds
        locale=language,
        estate_name=estate_name,
        flat=flat,
        building=building,
        unreachable=unreachable,
    )


class ResidentService(Service):
    async def info(self, telegram_id: int) -> ResidentInfo:
        async with self.transaction() as session:
            return await resident_info(session, telegram_id)

    async def touch(self, telegram_id: int, locale: str, name: str) -> None:
        """First contact creates the resident; any message clears "unreachable"."""
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            if resident is None:
                estate = await repo.only_estate(session)
                if estate is None:
                    return
                session.add(
                    Resident(
                        estate_id=estate.id,
                        telegram_id=telegram_id,
                        name=name,
                        language=locale,
                        created_at=self.deps.clock.now(),
                    )
                )
            elif resident.unreachable:
                resident.unreachable = False

    async def set_language(self, telegram_id: int, locale: str) -> None:
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            if resident is not None:
                resident.language = locale

    async def share_phone(self, telegram_id: int, phone: str, name: str) -> PhoneOutcome:
        """Match the resident's own phone against the registry; verified at once on a match."""
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            if resident is None:
                return PhoneOutcome(False)
            normalised = normalise_phone(phone)
            resident.phone = normalised or phone
            resident.name = resident.name or name
            entries = (
                await session.scalars(
                    select(RegistryEntry).where(
                        RegistryEntry.estate_id == resident.estate_id,
                        RegistryEntry.active.is_(True),
                    )
                )
            ).all()
            digits = _digits(normalised or phone)
            match = next((e for e in entries if _digits(e.phone) == digits), None)
            if match is None:
                return PhoneOutcome(False)
            flat = await session.get(Flat, match.flat_id)
            assert flat is not None
            resident.flat_id = flat.id
            resident.name = match.name
            resident.status = "verified"
            return PhoneOutcome(True, flat.label, flat.building.name)

    async def buildings(self, telegram_id: int) -> list[tuple[int, str]]:
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            if resident is None:
                return []
            return [(b.id, b.name) for b in await repo.buildings(session, resident.estate_id)]

    async def request_verification(
        self, telegram_id: int, building_id: int, flat_label: str
    ) -> Literal["sent", "no_such_flat", "unknown"]:
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            building = await session.get(Building, building_id)
            if resident is None or building is None or building.estate_id != resident.estate_id:
                return "unknown"
            flat = await repo.flat_in_building(session, building.id, flat_label)
            if flat is None:
                return "no_such_flat"
            out = await self.outgoing(session, resident.estate_id)
            verification = Verification(
                resident_id=resident.id, flat_id=flat.id, created_at=out.now
            )
            session.add(verification)
            resident.status = "pending"
            await session.flush()
            if out.ctx.customer_service_id is not None:
                department = await session.get(Department, out.ctx.customer_service_id)
                assert department is not None
                _ = self.tr(out.ctx.language)
                text = _(
                    "🏠 <b>Verification request</b>\nName: {name}\nPhone: {phone}\n"
                    "Flat: {flat}, {building}"
                ).format(
                    name=h(resident.name or "—"),
                    phone=h(mask_phone(resident.phone)),
                    flat=h(flat.label),
                    building=h(building.name),
                )
                await out.to_department(
                    department,
                    f"verify:{verification.id}",
                    text,
                    markup=keyboards.verification(_, verification.id),
                )
            return "sent"

    async def forget(self, telegram_id: int) -> bool:
        """Erase the resident's personal data; their requests stay, anonymised, for statistics."""
        async with self.transaction() as session:
            resident = await repo.resident_by_telegram(session, telegram_id)
            if resident is None:
                return False
            resident.name = None
            resident.phone = None
            resident.telegram_id = None
            resident.status = "forgotten"
            resident.unreachable = False
            await session.execute(
                delete(FsmRecord).where(FsmRecord.key.like(f"%:{telegram_id}:{telegram_id}:%"))
            )
            return True

    async def create_invitation(self, flat_id: int, ttl: timedelta) -> str:
        """A deep-link payload (``inv_<token>``) that verifies its first user to the flat."""
        async with self.transaction() as session:
            flat = await session.get(Flat, flat_id)
            if flat is None:
                raise ValueError("no such flat")
            token = secrets.token_urlsafe(16)
            now = self.deps.clock.now()
            session.add(
                Invitation(
                    token=token,
                    estate_id=flat.building.estate_id,
                    flat_id=flat.id,
                    created_at=now,
                    expires_at=now + ttl,
                )
            )
            return INVITE_PREFIX + token

    async def redeem_invitation(self, telegram_id: int, payload: str) -> tuple[str, str] | None:
        if not payload.startswith(INVITE_PREFIX):
            return None
        async with self.transaction() as session:
            invitation = await session.get(Invitation, payload[len(INVITE_PREFIX) :])
            resident = await repo.resident_by_telegram(session, telegram_id)
            now = self.deps.clock.now()
            if invitation is None or resident is None or invitation.used_at is not None:
                return None
            if invitation.expires_at <= now or invitation.estate_id != resident.estate_id:
                return None
            flat = await session.get(Flat, invitation.flat_id)
            assert flat is not None
            invitation.used_at, invitation.used_by = now, resident.id
            resident.flat_id, resident.status = flat.id, "verified"
            return flat.label, flat.building.name

    async def decide(
        self, telegram_id: int, verification_id: int, approve: bool
    ) -> Literal["done", "already", "not_allowed", "not_found"]:
        async with self.transaction() as session:
            verification = await session.get(Verification, verification_id)
            if verification is None:
                return "not_found"
            resident = verification.resident
            staff = await repo.staff_by_telegram(session, telegram_id, resident.estate_id)
            out = await self.outgoing(session, resident.estate_id)
            allowed = staff is not None and (
                staff.role in ("dispatcher", "manager", "admin")
                or any(d.id == out.ctx.customer_service_id for d in staff.departments)
            )
            if not allowed or staff is None:
                return "not_allowed"
            if verification.status != "pending":
                return "already"
            verification.status = "approved" if approve else "rejected"
            verification.decided_at = out.now
            verification.decided_by = staff.id
            _ = self.tr(resident.language)
            if approve:
                resident.flat_id = verification.flat_id
                resident.status = "verified"
                text = _("✅ Your flat {flat}, {building} is confirmed. Welcome!").format(
                    flat=h(verification.flat.label), building=h(verification.flat.building.name)
                )
                markup: ReplyKeyboardMarkup | None = keyboards.main_menu(_)
            else:
                resident.status = "rejected"
                text = _(
                    "We could not confirm your flat. Please contact the management office, "
                    "or send /start to try again."
                )
                markup = None
            await out.to_resident(
                resident, f"verified:{verification.id}", text, markup=markup, urgent=True
            )
            return "done"


INVITE_PREFIX = "inv_"


def _digits(phone: str) -> str:
    return "".join(ch for ch in phone if ch.isdigit())


def mask_phone(phone: str | None) -> str:
    """Groups see only the last two digits; the full number stays with the claimant."""
    digits = _digits(phone or "")
    if len(digits) < 4:
        return "—"
    return "•" * (len(digits) - 2) + digits[-2:]
