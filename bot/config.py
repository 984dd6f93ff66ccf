"""Configuration from the environment (and an optional ``.env``)."""

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

TOKEN_PATTERN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{20,}$")
DEFAULT_API = "https://api.telegram.org"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: str = Field(default="", repr=False)
    bot_api_url: str = DEFAULT_API
    database_url: str = "sqlite+aiosqlite:///frontdoor.db"
    estate_file: Path | None = None
    redis_url: str | None = None
    redis_prefix: str = "frontdoor"
    webhook_url: str | None = None  # public HTTPS URL Telegram posts updates to
    webhook_secret: str | None = Field(default=None, repr=False)
    web_host: str = "0.0.0.0"
    web_port: int = 8080
    log_level: str = "INFO"
    # Pacing of the outbox sender, in seconds between messages (Telegram's published limits).
    send_private_interval: float = 1.0
    send_group_interval: float = 3.0
    # A little under Telegram's ~30/s: direct answers to users share the same budget.
    send_global_per_second: float = 28.0
    send_max_attempts: int = 8
    # Messages between "sent" and "marked sent" at once: what a crash could repeat, at most.
    send_in_flight: int = 1
    flood_messages: int = 20
    flood_window: float = 10.0

    @field_validator("bot_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def token_problem(self) -> str | None:
        """Why the token cannot be used, in one line, or None when it looks right."""
        where = "get one from @BotFather in Telegram (/newbot)"
        if not self.bot_token:
            return f"BOT_TOKEN is not set: {where} and put it in the environment or .env"
        if not TOKEN_PATTERN.match(self.bot_token):
            return f"BOT_TOKEN is malformed (expected <digits>:<secret>): {where}"
        return None
