"""How aiogram's pydantic models are built: on first use, and then kept.

Deferred building. ``import aiogram`` ends with a loop that calls ``model_rebuild`` on each of
its ~900 Telegram types, building a validator for every one: 100 MB of the process (165 MB for
``import aiogram`` against 64 MB without the loop, measured with pydantic 2.13), for types most
bots never receive. aiogram already declares its models ``defer_build``; the loop only exists to
resolve the forward references of each type module (names imported under ``TYPE_CHECKING``).
``defer_aiogram_type_models`` (run by ``bot/__init__.py``, before anything of ours imports
aiogram) skips that loop and puts the names it would have resolved into each type module, so
pydantic resolves them itself when a model is first validated. An update builds the ``Update``
validator once (~0.1 s, done at start-up by ``pin_response_models``).

Pinned answers. aiogram parses every Bot API answer with ``Response[method.__returning__]``.
pydantic caches a parametrised generic model only weakly, so after a garbage collection the
class is built again: 2-11 ms of CPU on a call that otherwise costs well under one (measured in
bench/README.md). Holding a reference to each keeps it built once.
"""

import sys
from typing import Any

_PINNED: list[Any] = []
_PINNING = False
_TYPES_PACKAGE = "aiogram.types"


def defer_aiogram_type_models() -> None:
    """Make aiogram's import-time ``model_rebuild`` loop resolve names instead of building.

    Only calls that pass ``_types_namespace`` for a class of ``aiogram.types`` are changed, which
    is what that loop does; every other ``model_rebuild`` runs as pydantic wrote it. Idempotent;
    without effect once aiogram's types are imported.
    """
    from pydantic import BaseModel

    if _TYPES_PACKAGE in sys.modules or getattr(BaseModel.model_rebuild, "_frontdoor", False):
        return
    build = BaseModel.model_rebuild.__func__  # type: ignore[attr-defined]
    prepared: set[str] = set()

    def model_rebuild(cls: type[BaseModel], /, **options: Any) -> bool | None:
        names = options.get("_types_namespace")
        module = cls.__module__
        if names is None or options.get("force") or not module.startswith(_TYPES_PACKAGE + "."):
            return build(cls, **options)  # type: ignore[no-any-return]
        if module not in prepared:
            namespace = sys.modules[module].__dict__
            for name, value in names.items():
                namespace.setdefault(name, value)
            prepared.add(module)
        return None

    model_rebuild._frontdoor = True  # type: ignore[attr-defined]
    BaseModel.model_rebuild = classmethod(model_rebuild)  # type: ignore[assignment, method-assign]


def pin_response_models() -> None:
    """Keep every ``Response[T]`` aiogram builds from now on, and build ``Update``'s validator.

    A class is kept when pydantic first creates it (its ``__pydantic_init_subclass__``), so
    only the answers of methods the bot calls are built (all 185 cost 31 MB)."""
    global _PINNING
    if _PINNING:
        return
    from aiogram.methods.base import Response
    from aiogram.types import Update

    def keep(cls: type[Any], /, **_kwargs: Any) -> None:
        _PINNED.append(cls)

    Response.__pydantic_init_subclass__ = classmethod(keep)  # type: ignore[assignment]
    _PINNING = True
    Update.model_rebuild()
