"""Applying an estate file to the database: idempotent, and nothing is ever deleted."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.spans import Span
from bot.estate.spec import EstateSpec, StandardSpec
from bot.services.base import Service
from storage.models import (
    Building,
    Category,
    Department,
    Estate,
    Flat,
    RegistryEntry,
    Staff,
    StaffDepartment,
)


@dataclass
class ApplyReport:
    changes: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        self.changes.append(what)


def _span(span: Span | None) -> str | None:
    return None if span is None else str(span)


def _standard(spec: StandardSpec | None) -> dict[str, Any]:
    if spec is None:
        return {}
    values = {"claim": spec.claim, "on_site": spec.on_site, "resolve": spec.resolve}
    return {k: _span(v) for k, v in values.items() if v is not None}


def settings_of(spec: EstateSpec) -> dict[str, Any]:
    calendar = spec.calendar
    weekday_names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return {
        "calendar": {
            "weekdays": [weekday_names[d] for d in sorted(calendar.weekdays)],
            "hours": f"{calendar.opens:%H:%M}-{calendar.closes:%H:%M}",
            "holidays": sorted(d.isoformat() for d in calendar.holidays),
        },
        "quiet_hours": [f"{a:%H:%M}-{b:%H:%M}" for a, b in spec.quiet_hours],
        "standards": {str(name): _standard(std) for name, std in spec.standards.items()},
        "clock": {
            "resolved_reminder": str(spec.clock.resolved_reminder),
            "auto_close": str(spec.clock.auto_close),
            "poll_reminder": str(spec.clock.poll_reminder),
            "poll_expiry": str(spec.clock.poll_expiry),
            "callback_due": str(spec.clock.callback_due),
            "tick": str(spec.clock.tick),
            "digest_at": f"{spec.clock.digest_at:%H:%M}",
        },
        "emergency_numbers": {str(k): v for k, v in spec.emergency_numbers.items()},
        "max_open_requests": spec.max_open_requests,
        "invite_ttl": str(spec.invite_ttl),
    }


def _assign(obj: Any, report: ApplyReport, label: str, **values: Any) -> None:
    changed = [k for k, v in values.items() if getattr(obj, k) != v]
    for key in changed:
        setattr(obj, key, values[key])
    if changed:
        report.note(f"{label}: {', '.join(changed)} changed")


class EstateApplier(Service):
    async def apply(self, spec: EstateSpec) -> ApplyReport:
        report = ApplyReport()
        async with self.transaction() as session:
            estate = await session.scalar(select(Estate).where(Estate.slug == spec.slug))
            if estate is None:
                estate = Estate(slug=spec.slug, name=spec.name, timezone=spec.timezone, settings={})
                session.add(estate)
                await session.flush()
                report.note(f"estate {spec.slug}: created")
            departments = await self._departments(session, estate, spec, report)
            _assign(
                estate,
                report,
                f"estate {spec.slug}",
                name=spec.name,
                timezone=spec.timezone,
                language=spec.language,
                managers_chat_id=spec.managers_chat_id,
                customer_service_id=departments[spec.customer_service].id,
                settings=settings_of(spec),
            )
            flats = await self._buildings(session, estate, spec, report)
            await self._categories(session, estate, spec, departments, report)
            await self._staff(session, estate, spec, departments, report)
            await self._registry(session, estate, spec, flats, report)
        return report

    async def _departments(
        self, session: AsyncSession, estate: Estate, spec: EstateSpec, report: ApplyReport
    ) -> dict[str, Department]:
        existing = {d.code: d for d in await _all(session, Department, estate.id)}
        for position, item in enumerate(spec.departments):
            department = existing.get(item.code)
            if department is None:
                department = Department(estate_id=estate.id, code=item.code, name=item.name)
                session.add(department)
                existing[item.code] = department
                report.note(f"department {item.code}: created")
            values: dict[str, Any] = {"name": item.name, "active": True}
            if item.chat_id is not None:  # a group bound with /bind stays bound
                values.update(chat_id=item.chat_id, thread_id=item.thread_id)
            _assign(department, report, f"department {item.code}", **values)
            del position
        _deactivate(existing.values(), {d.code for d in spec.departments}, report, "department")
        await session.flush()
        return existing

    async def _buildings(
        self, session: AsyncSession, estate: Estate, spec: EstateSpec, report: ApplyReport
    ) -> dict[tuple[str, str], Flat]:
        existing = {b.code: b for b in await _all(session, Building, estate.id)}
        flats: dict[tuple[str, str], Flat] = {}
        for position, item in enumerate(spec.buildings):
            building = existing.get(item.code)
            if building is None:
                building = Building(estate_id=estate.id, code=item.code, name=item.name)
                session.add(building)
                existing[item.code] = building
                await session.flush()
                report.note(f"building {item.code}: created")
            _assign(
                building,
                report,
                f"building {item.code}",
                name=item.name,
                active=True,
                position=position,
            )
            rows = (
                await session.scalars(select(Flat).where(Flat.building_id == building.id))
            ).all()
            by_label = {f.label: f for f in rows}
            added = 0
            for label in item.flats:
                flat = by_label.get(label)
                if flat is None:
                    flat = Flat(building_id=building.id, label=label, active=True)
                    session.add(flat)
                    by_label[label] = flat
                    added += 1
                elif not flat.active:
                    flat.active = True
                    report.note(f"flat {item.code}/{label}: reactivated")
                flats[(item.code, label)] = flat
            if added:
                report.note(f"building {item.code}: {added} flats added")
            _deactivate(
                by_label.values(), set(item.flats), report, f"flat in {item.code}", key="label"
            )
        _deactivate(existing.values(), {b.code for b in spec.buildings}, report, "building")
        await session.flush()
        return flats

    async def _categories(
        self,
        session: AsyncSession,
        estate: Estate,
        spec: EstateSpec,
        departments: dict[str, Department],
        report: ApplyReport,
    ) -> None:
        existing = {c.code: c for c in await _all(session, Category, estate.id)}
        for position, item in enumerate(spec.categories):
            category = existing.get(item.code)
            if category is None:
                category = Category(
                    estate_id=estate.id,
                    code=item.code,
                    name=item.name,
                    kind=item.kind.value,
                    department_id=departments[item.department].id,
                )
                session.add(category)
                existing[item.code] = category
                report.note(f"category {item.code}: created")
            _assign(
                category,
                report,
                f"category {item.code}",
                name=item.name,
                names=dict(item.names),
                kind=item.kind.value,
                department_id=departments[item.department].id,
                emergency=item.emergency or item.priority.value == "emergency",
                hazard=item.hazard.value if item.hazard else None,
                simple=item.simple,
                standard=_standard(item.standard),
                active=True,
                position=position,
            )
        _deactivate(existing.values(), {c.code for c in spec.categories}, report, "category")
        await session.flush()

    async def _staff(
        self,
        session: AsyncSession,
        estate: Estate,
        spec: EstateSpec,
        departments: dict[str, Department],
        report: ApplyReport,
    ) -> None:
        existing = {s.telegram_id: s for s in await _all(session, Staff, estate.id)}
        for item in spec.staff:
            staff = existing.get(item.telegram_id)
            if staff is None:
                staff = Staff(
                    estate_id=estate.id,
                    telegram_id=item.telegram_id,
                    name=item.name,
                    role=item.role.value,
                )
                session.add(staff)
                existing[item.telegram_id] = staff
                await session.flush()
                report.note(f"staff {item.telegram_id}: added")
            _assign(
                staff,
                report,
                f"staff {item.telegram_id}",
                name=item.name,
                role=item.role.value,
                active=True,
                language=item.language,
            )
            wanted = {departments[code].id for code in item.departments}
            current = set(
                (
                    await session.scalars(
                        select(StaffDepartment.department_id).where(
                            StaffDepartment.staff_id == staff.id
                        )
                    )
                ).all()
            )
            for department_id in wanted - current:
                session.add(StaffDepartment(staff_id=staff.id, department_id=department_id))
            for link in (
                await session.scalars(
                    select(StaffDepartment).where(StaffDepartment.staff_id == staff.id)
                )
            ).all():
                if link.department_id not in wanted:
                    await session.delete(link)
            if wanted != current:
                report.note(f"staff {item.telegram_id}: departments changed")
        keep = {s.telegram_id for s in spec.staff}
        for staff in existing.values():
            if staff.telegram_id not in keep and staff.active:
                staff.active = False
                report.note(f"staff {staff.telegram_id}: deactivated")
        await session.flush()

    async def _registry(
        self,
        session: AsyncSession,
        estate: Estate,
        spec: EstateSpec,
        flats: dict[tuple[str, str], Flat],
        report: ApplyReport,
    ) -> None:
        """Reported as counts only: the report is logged, and residents' names stay out of logs."""
        existing = {r.phone: r for r in await _all(session, RegistryEntry, estate.id)}
        added = changed = removed = 0
        for item in spec.residents:
            flat = flats[(item.building, item.flat)]
            entry = existing.get(item.phone)
            if entry is None:
                session.add(
                    RegistryEntry(
                        estate_id=estate.id, name=item.name, phone=item.phone, flat_id=flat.id
                    )
                )
                added += 1
                continue
            if (entry.name, entry.flat_id, entry.active) != (item.name, flat.id, True):
                entry.name, entry.flat_id, entry.active = item.name, flat.id, True
                changed += 1
        keep = {r.phone for r in spec.residents}
        for entry in existing.values():
            if entry.phone not in keep and entry.active:
                entry.active = False
                removed += 1
        for count, what in ((added, "added"), (changed, "changed"), (removed, "removed")):
            if count:
                report.note(f"registry: {count} residents {what}")


async def _all(session: AsyncSession, model: Any, estate_id: int) -> list[Any]:
    return list((await session.scalars(select(model).where(model.estate_id == estate_id))).all())


def _deactivate(
    rows: Iterable[Any], keep: set[str], report: ApplyReport, label: str, key: str = "code"
) -> None:
    for row in rows:
        if getattr(row, key) not in keep and row.active:
            row.active = False
            report.note(f"{label} {getattr(row, key)}: deactivated")
