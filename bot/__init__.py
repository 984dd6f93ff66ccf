"""Frontdoor: a resident help desk that lives in Telegram."""

from bot.telegram_models import defer_aiogram_type_models

# Before anything of ours imports aiogram (see bot/telegram_models.py): 100 MB less per process.
defer_aiogram_type_models()
