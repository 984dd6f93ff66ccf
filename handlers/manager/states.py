"""Dialog states of the console."""

from aiogram.fsm.state import State, StatesGroup


class ConsoleReason(StatesGroup):
    """A manager is writing the reason to put a request on hold or to close it."""

    text = State()
