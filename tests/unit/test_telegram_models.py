"""aiogram's models built on first use (bot/telegram_models.py), in a fresh interpreter each:
whether the deferral took effect depends on what was imported first."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_fresh(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_types_are_built_on_first_use_and_parse_every_update_kind_the_bot_receives() -> None:
    out = run_fresh(
        """
        import gc
        import bot  # noqa: F401
        from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update

        assert not Message.__pydantic_complete__, "the import-time build was not skipped"
        user = {"id": 7, "is_bot": False, "first_name": "Ann", "language_code": "ru"}
        chat = {"id": 7, "type": "private", "first_name": "Ann"}
        message = {
            "message_id": 3, "date": 1700000000, "chat": chat, "from": user,
            "text": "/start x", "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            "photo": [{"file_id": "p", "file_unique_id": "u", "width": 1, "height": 1}],
            "reply_to_message": {"message_id": 2, "date": 1700000000, "chat": chat},
            "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
        }
        updates = [
            {"update_id": 1, "message": message},
            {"update_id": 2, "callback_query": {"id": "q", "from": user, "chat_instance": "c",
                                                "data": "a", "message": message}},
            {"update_id": 3, "my_chat_member": {
                "chat": {"id": -5, "type": "supergroup", "title": "Plumbing"}, "from": user,
                "date": 1700000000,
                "old_chat_member": {"status": "left", "user": user},
                "new_chat_member": {"status": "member", "user": user}}},
        ]
        parsed = [Update.model_validate(u) for u in updates]
        assert isinstance(parsed[0].message, Message)
        assert parsed[0].message.reply_to_message.chat.id == 7
        assert parsed[0].message.photo[0].file_id == "p"
        assert isinstance(parsed[1].callback_query, CallbackQuery)
        assert parsed[1].callback_query.message.reply_markup.inline_keyboard[0][0].text == "A"
        assert isinstance(parsed[2].my_chat_member, ChatMemberUpdated)
        assert parsed[2].my_chat_member.new_chat_member.status == "member"

        from aiogram.methods import SendMessage
        from aiogram.methods.base import Response
        from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
        from bot.telegram_models import pin_response_models

        pin_response_models()
        answer = Response[Message].model_validate({"ok": True, "result": message})
        assert answer.result.chat.first_name == "Ann"
        kept = Response[Message]
        gc.collect()
        assert Response[Message] is kept, "the answer model was built again after a collection"
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="B", callback_data="b")]]
        )
        sent = SendMessage(chat_id=7, text="hi", reply_markup=markup)
        dumped = sent.model_dump(exclude_none=True)["reply_markup"]
        print(dumped["inline_keyboard"][0][0]["callback_data"])
        """
    )
    assert out == "b"


def test_aiogram_imported_first_still_works_built_at_import() -> None:
    out = run_fresh(
        """
        import aiogram.types as types
        import bot  # noqa: F401  (too late to defer: nothing changes)
        assert types.Message.__pydantic_complete__
        print(types.Update.model_validate({"update_id": 1}).update_id)
        """
    )
    assert out == "1"
