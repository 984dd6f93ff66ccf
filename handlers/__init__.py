"""The thin edge: routers per audience, assembled into one dispatcher."""

from collections.abc import Callable

from aiogram import Dispatcher, F, Router
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.utils.i18n import I18n

from bot.services import Services
from handlers import announce, fallback, manager
from handlers.inline_filters import run_sync_filters_inline
from handlers.middlewares import FloodControl, LocaleMiddleware, RecordArrival, WakeSender
from handlers.resident import chat, menu, my_requests, new_request, onboarding, poll
from handlers.staff import cards, groups, leads, prompts


def _detached(*routers: Router) -> list[Router]:
    """Module-level routers may be attached to a new dispatcher (tests build one per case)."""
    for router in routers:
        router._parent_router = None
    return list(routers)


def _resident_router() -> Router:
    router = Router(name="resident")
    router.message.filter(F.chat.type == "private")
    router.include_routers(
        *_detached(
            menu.router,
            announce.router,
            prompts.router,
            onboarding.router,
            new_request.router,
            my_requests.router,
            poll.router,
            chat.router,
        )
    )
    return router


def build_dispatcher(
    services: Services,
    storage: BaseStorage,
    i18n: I18n,
    kick_sender: Callable[[], None],
    queued: Callable[[], int],
    isolation: BaseEventIsolation | None = None,
    flood_limit: int = 20,
    flood_window: float = 10.0,
) -> Dispatcher:
    dp = Dispatcher(storage=storage, events_isolation=isolation or SimpleEventIsolation())
    dp["services"] = services
    dp.update.outer_middleware(RecordArrival(services))
    dp.update.outer_middleware(WakeSender(kick_sender, queued))
    LocaleMiddleware(i18n, services).setup(dp)
    flood = FloodControl(flood_limit, flood_window, services.staff.is_staff)
    dp.message.outer_middleware(flood)
    dp.callback_query.outer_middleware(flood)
    dp.include_routers(
        *_detached(leads.router, groups.router, cards.router),
        manager.build_router(),
        _resident_router(),
        *_detached(fallback.router),
    )
    run_sync_filters_inline(dp)
    return dp
