"""Keeping aiogram's answer models alive.

aiogram parses every Bot API answer with ``Response[method.__returning__]``. pydantic caches a
parametrised generic model only weakly, so after a garbage collection the class is built again:
2-11 ms of CPU on a call that otherwise costs well under one (measured in bench/README.md).
Holding one reference per method keeps each class built once.
"""

from typing import Any

_PINNED: list[Any] = []


def pin_response_models() -> int:
    """Build and keep ``Response[T]`` for every Bot API method; returns how many are held."""
    if _PINNED:
        return len(_PINNED)
    from aiogram import methods
    from aiogram.methods.base import Response

    for name in methods.__all__:
        returning = getattr(getattr(methods, name), "__returning__", None)
        if returning is None or isinstance(returning, property):
            continue
        try:
            _PINNED.append(Response[returning])  # type: ignore[valid-type]
        except TypeError:  # a return type pydantic cannot parametrise with: built per call
            continue
    return len(_PINNED)
