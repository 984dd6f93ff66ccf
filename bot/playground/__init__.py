"""``frontdoor playground``: try the bot in a browser, against the built-in Bot API emulator."""

from bot.playground.server import Playground, running

__all__ = ["Playground", "running"]
