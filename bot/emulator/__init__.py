"""Fake Telegram Bot API server + human actors for end-to-end tests.

async with FakeTelegram() as tg:
    bot = tg.make_bot()
    alice = tg.person(42, "Alice")
    await dp.feed_raw_update(bot, alice.command("start"))
    assert "Welcome" in tg.last_bot_message(42).text
"""

from .actors import SELF, Group, Person
from .formatting import (
    EntityParseError,
    entities_to_html,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    utf16_len,
)
from .media import image_size, tiny_png
from .ratelimit import RateLimitConfig, SlidingWindowLimiter
from .server import DEFAULT_TOKEN, FakeTelegram, WebhookDelivery, WebhookState, is_send_method
from .spec import ApiSpec
from .state import (
    ApiCall,
    ApiError,
    FakeChat,
    FakeUser,
    StoredFile,
    StoredMessage,
    Upload,
)

__all__ = [
    "DEFAULT_TOKEN",
    "SELF",
    "ApiCall",
    "ApiError",
    "ApiSpec",
    "EntityParseError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "Group",
    "Person",
    "RateLimitConfig",
    "SlidingWindowLimiter",
    "StoredFile",
    "StoredMessage",
    "Upload",
    "WebhookDelivery",
    "WebhookState",
    "entities_to_html",
    "image_size",
    "is_send_method",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "tiny_png",
    "utf16_len",
]
