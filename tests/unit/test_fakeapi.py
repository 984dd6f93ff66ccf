"""Tests of the fake Telegram Bot API server, driven by the real aiogram Bot + AiohttpSession."""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandStart
from aiogram.methods import TelegramMethod
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaAudio,
    InputMediaDocument,
    InputMediaLivePhoto,
    InputMediaPhoto,
    InputMediaVideo,
    KeyboardButton,
    MenuButtonCommands,
    Message,
    ReplyKeyboardMarkup,
    ReplyParameters,
    Update,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.emulator import (
    DEFAULT_TOKEN,
    EntityParseError,
    FakeTelegram,
    entities_to_html,
    parse_html,
    parse_markdown,
    parse_markdown_v2,
    tiny_png,
    utf16_len,
)

MediaItem = (
    InputMediaAudio | InputMediaDocument | InputMediaLivePhoto | InputMediaPhoto | InputMediaVideo
)
ALICE = 1001
BOB = 1002
GROUP = -4001


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        server.add_user(ALICE, "Alice", username="alice")
        server.add_user(BOB, "Bob", language_code="de")
        server.add_group(GROUP, "Staff")
        yield server


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
    client = Bot(DEFAULT_TOKEN, session=session)
    yield client
    # AiohttpSession.close() sleeps 250 ms for TLS shutdown; plain HTTP needs no grace period
    if session._session is not None:
        await session._session.close()


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in buttons]
    )


def as_update(bot: Bot, raw: dict[str, Any]) -> Update:
    """Actors must produce updates aiogram accepts."""
    return Update.model_validate(raw, context={"bot": bot})


# ============================================================================ basics


async def test_get_me_and_send_message_round_trip(tg: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot
    assert me.username == "frontdoor_test_bot"

    sent = await bot.send_message(ALICE, "Hello, resident!")
    assert isinstance(sent, Message)
    assert sent.chat.id == ALICE
    assert sent.chat.type == "private"
    assert sent.from_user is not None and sent.from_user.id == me.id
    assert sent.text == "Hello, resident!"
    assert sent.message_id == 1

    stored = tg.last_bot_message(ALICE)
    assert stored.text == "Hello, resident!"
    assert stored.message_id == sent.message_id
    assert stored.method == "sendMessage"
    assert [c.method for c in tg.calls] == ["getMe", "sendMessage"]
    assert all(c.ok for c in tg.calls)
    assert tg.calls[-1].params["chat_id"] == ALICE


async def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
    other = Bot("999:OTHER", session=session)
    try:
        with pytest.raises(Exception, match="Unauthorized"):
            await other.get_me()
    finally:
        await other.session.close()


async def test_message_ids_are_shared_between_user_and_bot(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.person(ALICE, "Alice")
    first = alice.text("hi")
    reply = await bot.send_message(ALICE, "hello")
    second = alice.text("thanks", reply_to=reply)
    assert first["message"]["message_id"] == 1
    assert reply.message_id == 2
    assert second["message"]["message_id"] == 3
    assert second["message"]["reply_to_message"]["message_id"] == 2
    assert second["update_id"] == first["update_id"] + 1
    assert [m.message_id for m in tg.messages(ALICE)] == [1, 2, 3]
    assert [m.sent_by_bot for m in tg.messages(ALICE)] == [False, True, False]
    assert len(tg.bot_messages(ALICE)) == 1


# ============================================================================ formatting


async def test_html_unsupported_tag_is_rejected(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest) as info:
        await bot.send_message(ALICE, "Ticket #12: <script>alert(1)</script>", parse_mode="HTML")
    assert info.value.message == (
        'Bad Request: can\'t parse entities: Unsupported start tag "script" at byte offset 12'
    )
    assert tg.bot_messages(ALICE) == []
    assert tg.calls[-1].error_code == 400


async def test_html_escaped_user_text_is_accepted(tg: FakeTelegram, bot: Bot) -> None:
    user_text = "<script>alert('x') & \"quotes\"</script>"
    source = f"<b>New ticket</b>\n{html.escape(user_text)}"
    sent = await bot.send_message(ALICE, source, parse_mode="HTML")
    assert sent.text == f"New ticket\n{user_text}"
    assert sent.entities is not None
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 10)]
    stored = tg.last_bot_message(ALICE)
    assert stored.raw_text == source
    assert stored.html == source
    assert stored.parse_mode == "HTML"


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ('<span class="big">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("a <b", "Unclosed start tag at byte offset 2"),
    ],
)
async def test_html_errors(tg: FakeTelegram, bot: Bot, source: str, reason: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: ") as info:
        await bot.send_message(ALICE, source, parse_mode="HTML")
    assert reason in info.value.message


def test_html_parser_entities() -> None:
    text, entities = parse_html(
        '<b>bold <i>both</i></b> <a href="https://example.com">link</a> '
        '<pre><code class="language-python">x = 1</code></pre> '
        "<blockquote expandable>quote</blockquote> <tg-spoiler>s</tg-spoiler> "
        '<span class="tg-spoiler">t</span> &lt;&gt;&amp;&quot;&#65;&#x42; AT&T'
    )
    assert text == 'bold both link x = 1 quote s t <>&"AB AT&T'
    kinds = [(e["type"], e["offset"], e["length"]) for e in entities]
    assert ("bold", 0, 9) in kinds
    assert ("italic", 5, 4) in kinds
    link = next(e for e in entities if e["type"] == "text_link")
    assert link["url"] == "https://example.com/"
    pre = next(e for e in entities if e["type"] == "pre")
    assert pre["language"] == "python"
    assert not any(e["type"] == "code" for e in entities)
    assert any(e["type"] == "expandable_blockquote" for e in entities)
    assert sum(e["type"] == "spoiler" for e in entities) == 2


def test_html_offsets_are_utf16_and_errors_use_byte_offsets() -> None:
    text, entities = parse_html("😀 <b>ok</b>")
    assert text == "😀 ok"
    assert entities == [{"type": "bold", "offset": 3, "length": 2}]
    assert utf16_len("😀") == 2
    with pytest.raises(EntityParseError, match="byte offset 5"):
        parse_html("😀 <x>")
    with pytest.raises(EntityParseError, match="Unsupported HTML entity"):
        parse_html("AT&T", strict_entities=True)


def test_markdown_v2_and_legacy_markdown() -> None:
    text, entities = parse_markdown_v2(r"*bold* _it_ __u__ ~s~ ||sp|| `c` [l](https://e.org) 1\.5")
    assert text == "bold it u s sp c l 1.5"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_markdown_v2("Version 1.5")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity"):
        parse_markdown_v2("*open")
    text, entities = parse_markdown("*b* _i_ `c`")
    assert text == "b i c"
    assert [e["type"] for e in entities] == ["bold", "italic", "code"]
    with pytest.raises(EntityParseError, match="Can't find end of the entity"):
        parse_markdown("*open")


async def test_markdown_v2_over_http(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Character '!'"):
        await bot.send_message(ALICE, "Done!", parse_mode="MarkdownV2")
    sent = await bot.send_message(ALICE, r"*Done*\!", parse_mode="MarkdownV2")
    assert sent.text == "Done!"
    assert tg.last_bot_message(ALICE).html == "<b>Done</b>!"


def test_entities_to_html_round_trip() -> None:
    source = '<b>a <i>b</i></b> <a href="https://x.org/">c</a> &lt;d&gt;'
    text, entities = parse_html(source)
    assert entities_to_html(text, entities) == source


async def test_text_limits(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(ALICE, "x" * 4096)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(ALICE, "x" * 4097)
    # the limit applies after entity parsing and counts UTF-16 units
    await bot.send_message(ALICE, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(ALICE, "😀" * 2049)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(ALICE, "")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(ALICE, "<b> </b>", parse_mode="HTML")
    photo = BufferedInputFile(tiny_png(), "p.png")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_photo(ALICE, photo, caption="c" * 1025)


async def test_auto_detected_entities(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_message(ALICE, "Use /help or see https://example.org, ask @frontdesk")
    assert sent.entities is not None
    assert [e.type for e in sent.entities] == ["bot_command", "url", "mention"]


# ============================================================================ keyboards & edits


async def test_callback_data_longer_than_64_bytes_is_rejected(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "pick", reply_markup=keyboard(("Too long", "x" * 65)))
    await bot.send_message(ALICE, "pick", reply_markup=keyboard(("Just right", "x" * 64)))
    # bytes, not characters
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(ALICE, "pick", reply_markup=keyboard(("Unicode", "é" * 33)))


async def test_edit_not_modified_and_keyboard_semantics(tg: FakeTelegram, bot: Bot) -> None:
    markup = keyboard(("Yes", "yes"), ("No", "no"))
    sent = await bot.send_message(ALICE, "<b>Confirm?</b>", parse_mode="HTML", reply_markup=markup)
    with pytest.raises(TelegramBadRequest) as info:
        await bot.edit_message_text(
            "<strong>Confirm?</strong>",
            chat_id=ALICE,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=markup,
        )
    assert info.value.message == (
        "Bad Request: message is not modified: specified new message content and reply markup "
        "are exactly the same as a current content and reply markup of the message"
    )
    # same text without reply_markup removes the keyboard -> a real modification
    edited = await bot.edit_message_text(
        "<b>Confirm?</b>", chat_id=ALICE, message_id=sent.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message)
    assert edited.reply_markup is None
    assert edited.edit_date is not None
    stored = tg.last_bot_message(ALICE)
    assert stored.edit_count == 1
    assert stored.history[0]["reply_markup"] == markup.model_dump(exclude_none=True)

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=ALICE, message_id=sent.message_id)
    await bot.edit_message_reply_markup(
        chat_id=ALICE, message_id=sent.message_id, reply_markup=keyboard(("Done", "done"))
    )
    assert tg.find_button(stored, "Done") == "done"
    assert stored.edit_count == 2


async def test_edit_and_delete_not_found(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=777)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to delete not found"):
        await bot.delete_message(ALICE, 777)
    sent = await bot.send_message(ALICE, "temp")
    assert await bot.delete_message(ALICE, sent.message_id) is True
    assert tg.messages(ALICE) == []
    assert tg.messages(ALICE, include_deleted=True)[0].deleted
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ALICE, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("again", chat_id=ALICE, message_id=sent.message_id)


async def test_edit_caption_and_user_message(tg: FakeTelegram, bot: Bot) -> None:
    photo = await bot.send_photo(ALICE, BufferedInputFile(tiny_png(), "p.png"), caption="old")
    edited = await bot.edit_message_caption(
        chat_id=ALICE, message_id=photo.message_id, caption="<i>new</i>", parse_mode="HTML"
    )
    assert isinstance(edited, Message)
    assert edited.caption == "new"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_caption(
            chat_id=ALICE, message_id=photo.message_id, caption="<i>new</i>", parse_mode="HTML"
        )
    with pytest.raises(TelegramBadRequest, match="there is no text in the message to edit"):
        await bot.edit_message_text("x", chat_id=ALICE, message_id=photo.message_id)
    user_message = tg.person(ALICE, "Alice").text("mine")
    with pytest.raises(TelegramBadRequest, match="message can't be edited"):
        await bot.edit_message_text(
            "hijack", chat_id=ALICE, message_id=user_message["message"]["message_id"]
        )


async def test_reply_keyboard_and_tap(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.person(ALICE, "Alice", phone="+447700900123")
    markup = ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="📞 Share phone", request_contact=True)],
            [KeyboardButton(text="Cancel")],
        ],
        one_time_keyboard=True,
    )
    await bot.send_message(ALICE, "Share your phone", reply_markup=markup)
    sent = await bot.send_message(ALICE, "force", reply_markup=ForceReply())
    assert sent.reply_markup is None  # only inline keyboards are echoed in Message objects
    assert tg.bot_messages(ALICE)[0].button_texts == [["📞 Share phone"], ["Cancel"]]
    update = alice.tap_reply_button("Share phone")
    contact = update["message"]["contact"]
    assert contact == {
        "phone_number": "+447700900123",
        "first_name": "Alice",
        "user_id": ALICE,
    }
    with pytest.raises(LookupError, match="no reply keyboard"):
        alice.tap_reply_button("Cancel")  # one_time_keyboard is gone after the tap


# ============================================================================ meaningful errors


async def test_blocked_and_not_started_users(tg: FakeTelegram, bot: Bot) -> None:
    tg.block(ALICE)
    with pytest.raises(TelegramForbiddenError) as info:
        await bot.send_message(ALICE, "ping")
    assert info.value.message == "Forbidden: bot was blocked by the user"
    tg.unblock(ALICE)
    await bot.send_message(ALICE, "ping")

    carol = tg.person(1003, "Carol", started=False)
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(carol.id, "hello?")
    carol.start()
    await bot.send_message(carol.id, "hello!")

    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(999_999, "nobody")


async def test_kicked_from_group(tg: FakeTelegram, bot: Bot) -> None:
    tg.kick(GROUP)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the group chat"):
        await bot.send_message(GROUP, "anyone?")
    tg.add_group(-1002000, "Residents")
    tg.kick(-1002000)
    with pytest.raises(TelegramForbiddenError, match="kicked from the supergroup chat"):
        await bot.send_message(-1002000, "anyone?")


async def test_upgraded_group_raises_migrate_to_chat(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(GROUP, "before")
    tg.upgrade(GROUP, -1009000)
    with pytest.raises(TelegramMigrateToChat) as info:
        await bot.send_message(GROUP, "after")
    assert info.value.migrate_to_chat_id == -1009000
    assert "group chat was upgraded to a supergroup chat" in info.value.message
    sent = await bot.send_message(info.value.migrate_to_chat_id, "after")
    assert sent.chat.type == "supergroup"
    assert tg.last_bot_message(-1009000).text == "after"


# ============================================================================ rate limits & faults


async def test_rate_limit_private_chat_gives_retry_after(tg: FakeTelegram, bot: Bot) -> None:
    now = [1000.0]
    tg.monotonic = lambda: now[0]
    tg.rate_limits(enabled=True, private_per_second=1.0, group_per_minute=20)
    await bot.send_message(ALICE, "one")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(ALICE, "two")
    assert info.value.retry_after == 1
    assert "Too Many Requests: retry after 1" in info.value.message
    assert tg.rate_limit_violations == 1
    await bot.send_message(BOB, "other chats are independent")
    now[0] += 1.0
    await bot.send_message(ALICE, "two")
    assert [m.text for m in tg.bot_messages(ALICE)] == ["one", "two"]


async def test_rate_limit_group_per_minute(tg: FakeTelegram, bot: Bot) -> None:
    now = [50.0]
    tg.monotonic = lambda: now[0]
    tg.rate_limits(group_per_minute=3)
    for i in range(3):
        await bot.send_message(GROUP, f"m{i}")
        now[0] += 5
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(GROUP, "m3")
    assert info.value.retry_after == 45  # the first message leaves the 60 s window at t=110
    now[0] += 45
    await bot.send_message(GROUP, "m3")


async def test_rate_limit_with_real_clock(tg: FakeTelegram, bot: Bot) -> None:
    tg.rate_limits(private_per_second=1.0)
    await bot.send_message(ALICE, "a")
    with pytest.raises(TelegramRetryAfter) as info:
        await bot.send_message(ALICE, "b")
    assert isinstance(info.value.retry_after, int)
    assert info.value.retry_after >= 1


async def test_burst_429_and_fail_next(tg: FakeTelegram, bot: Bot) -> None:
    tg.burst_429(times=2, retry_after=3)
    for _ in range(2):
        with pytest.raises(TelegramRetryAfter) as info:
            await bot.send_message(ALICE, "x")
        assert info.value.retry_after == 3
    await bot.get_me()  # not a send call: unaffected
    await bot.send_message(ALICE, "x")

    tg.fail_next("sendMessage", 400, "Bad Request: something odd")
    with pytest.raises(TelegramBadRequest, match="something odd"):
        await bot.send_message(ALICE, "x")
    tg.fail_next(
        "sendMessage",
        400,
        "Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": -100123},
    )
    with pytest.raises(TelegramMigrateToChat):
        await bot.send_message(ALICE, "x")
    await bot.send_message(ALICE, "fine again")


async def test_seeded_server_errors(tg: FakeTelegram, bot: Bot) -> None:
    async def run(seed: int) -> list[bool]:
        tg.faults(server_error_rate=0.5, seed=seed)
        outcome = []
        for _ in range(12):
            try:
                await bot.send_message(ALICE, "x")
                outcome.append(True)
            except TelegramServerError as error:
                assert error.message == "Internal Server Error"
                outcome.append(False)
        return outcome

    first = await run(7)
    second = await run(7)
    assert first == second
    assert True in first and False in first
    tg.faults(server_error_rate=0.0)


async def test_dropped_connection_is_a_network_error(tg: FakeTelegram, bot: Bot) -> None:
    tg.drop_connections(times=1, method="sendMessage")
    with pytest.raises(TelegramNetworkError):
        await bot.send_message(ALICE, "lost")
    sent = await bot.send_message(ALICE, "delivered")
    assert sent.text == "delivered"
    assert tg.calls[-2].status == 0


# ============================================================================ files


async def test_send_photo_upload_get_file_and_download(tg: FakeTelegram, bot: Bot) -> None:
    content = tiny_png(1600, 1200)
    sent = await bot.send_photo(ALICE, BufferedInputFile(content, "meter.png"), caption="Meter")
    assert sent.photo is not None
    largest = sent.photo[-1]
    assert (largest.width, largest.height) == (1600, 1200)
    assert [p.width for p in sent.photo] == sorted(p.width for p in sent.photo)
    file = await bot.get_file(largest.file_id)
    assert file.file_path
    downloaded = await bot.download(largest)
    assert downloaded is not None
    assert downloaded.read() == content

    # re-send by file_id: same PhotoSize array
    again = await bot.send_photo(BOB, largest.file_id)
    assert again.photo is not None
    assert [p.file_id for p in again.photo] == [p.file_id for p in sent.photo]
    assert tg.last_bot_message(ALICE).photo_file_ids == [p.file_id for p in sent.photo]

    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_photo(ALICE, "no-such-file")
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("no-such-file")


async def test_send_document_and_user_files(tg: FakeTelegram, bot: Bot) -> None:
    sent = await bot.send_document(ALICE, BufferedInputFile(b"id,name\n1,x\n", "report.csv"))
    assert sent.document is not None
    assert sent.document.file_name == "report.csv"
    assert sent.document.mime_type == "text/csv"
    assert await bot.download(sent.document) is not None

    alice = tg.person(ALICE, "Alice")
    update = alice.document(b"%PDF-1.4 lease", "lease.pdf", caption="my lease")
    document = as_update(bot, update).message
    assert document is not None and document.document is not None
    data = await bot.download(document.document)
    assert data is not None and data.read() == b"%PDF-1.4 lease"

    stored = tg.add_file(b"GIF89a\x02\x00\x03\x00", "photo")
    assert (stored.width, stored.height) == (2, 3)
    photo_message = await bot.send_photo(ALICE, stored.file_id)
    assert photo_message.photo is not None
    assert photo_message.photo[-1].file_unique_id == stored.file_unique_id


async def test_send_media_group(tg: FakeTelegram, bot: Bot) -> None:
    existing = tg.add_file(tiny_png(), "photo")
    media: list[MediaItem] = [
        InputMediaPhoto(media=BufferedInputFile(tiny_png(10, 10), "a.png"), caption="<b>A</b>"),
        InputMediaPhoto(media=existing.file_id),
        InputMediaPhoto(media=BufferedInputFile(tiny_png(20, 10), "c.png")),
    ]
    sent = await bot.send_media_group(ALICE, media)
    assert len(sent) == 3
    assert len({m.media_group_id for m in sent}) == 1
    assert sent[0].media_group_id is not None
    assert [m.message_id for m in sent] == [1, 2, 3]
    assert sent[0].caption == "<b>A</b>"  # no parse_mode: literal text
    assert sent[1].photo is not None and sent[1].photo[-1].file_id == existing.file_id

    with pytest.raises(TelegramBadRequest, match="too much messages to send as an album"):
        await bot.send_media_group(ALICE, [InputMediaPhoto(media=existing.file_id)] * 11)
    with pytest.raises(TelegramBadRequest, match="at least 2"):
        await bot.send_media_group(ALICE, [InputMediaPhoto(media=existing.file_id)])
    with pytest.raises(TelegramBadRequest, match="can't be mixed"):
        await bot.send_media_group(
            ALICE,
            [
                InputMediaPhoto(media=existing.file_id),
                InputMediaDocument(media=BufferedInputFile(b"doc", "d.txt")),
            ],
        )


async def test_copy_and_forward(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.person(ALICE, "Alice")
    update = alice.photo(caption="leak in kitchen")
    message_id = update["message"]["message_id"]
    copied = await bot.copy_message(GROUP, ALICE, message_id, caption="From Alice: leak")
    copy_msg = tg.get_message(GROUP, copied.message_id)
    assert copy_msg.caption == "From Alice: leak"
    assert copy_msg.photo == update["message"]["photo"]
    forwarded = await bot.forward_message(GROUP, ALICE, message_id)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.type == "user"
    assert forwarded.caption == "leak in kitchen"
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(GROUP, ALICE, 999)


# ============================================================================ spec honesty


class SendTeleport(TelegramMethod[bool]):
    __returning__: ClassVar[type] = bool
    __api_method__: ClassVar[str] = "sendTeleport"

    chat_id: int


async def test_unknown_method_is_404(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramNotFound) as info:
        await bot(SendTeleport(chat_id=ALICE))
    assert info.value.message == "Not Found: method not found"


async def test_unimplemented_method_fails_loudly(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramServerError, match="FakeTelegram does not implement it"):
        await bot.send_poll(ALICE, "Lunch?", ["Yes", "No"])
    assert [c.method for c in tg.unimplemented] == ["sendPoll"]
    assert tg.calls[-1].status == 501
    with pytest.raises(AssertionError, match="unimplemented method sendPoll"):
        tg.assert_healthy()


async def test_missing_required_parameter(tg: FakeTelegram) -> None:
    url = f"{tg.base_url}/bot{DEFAULT_TOKEN}/deleteMessage"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data={"chat_id": str(ALICE)}) as response:
            body = await response.json()
            assert response.status == 400
        # method names are case-insensitive, JSON bodies work too
        async with http.post(
            f"{tg.base_url}/bot{DEFAULT_TOKEN}/SENDMESSAGE", json={"chat_id": ALICE, "text": "x"}
        ) as response:
            ok = await response.json()
    assert body == {
        "ok": False,
        "error_code": 400,
        "description": 'Bad Request: parameter "message_id" is required',
    }
    assert ok["ok"] is True and ok["result"]["text"] == "x"


# ============================================================================ updates


async def test_get_updates_with_offset(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.person(ALICE, "Alice")
    for word in ("one", "two", "three"):
        tg.push_update(alice.text(word))
    updates = await bot.get_updates()
    assert [u.message.text for u in updates if u.message] == ["one", "two", "three"]
    again = await bot.get_updates()
    assert len(again) == 3  # not confirmed yet
    rest = await bot.get_updates(offset=updates[1].update_id, limit=5)
    assert [u.update_id for u in rest] == [updates[1].update_id, updates[2].update_id]
    empty = await bot.get_updates(offset=updates[2].update_id + 1)
    assert empty == []
    assert tg.pending_updates == []


async def test_get_updates_long_poll_waits_without_busy_loop(tg: FakeTelegram, bot: Bot) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9

    alice = tg.person(ALICE, "Alice")

    async def later() -> None:
        await asyncio.sleep(0.2)
        tg.push_update(alice.text("wake up"))

    task = asyncio.create_task(later())
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    await task
    assert time.monotonic() - started < 3
    assert updates[0].message is not None and updates[0].message.text == "wake up"


async def test_allowed_updates_filter(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.person(ALICE, "Alice")
    sent = await bot.send_message(ALICE, "menu", reply_markup=keyboard(("Go", "go")))
    tg.push_update(alice.text("text"))
    tg.push_update(alice.press(sent, "Go"))
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert len(updates) == 1 and updates[0].callback_query is not None


# ============================================================================ callbacks & actors


async def test_answer_callback_query_rules(tg: FakeTelegram, bot: Bot) -> None:
    alice = tg.person(ALICE, "Alice")
    sent = await bot.send_message(ALICE, "Rate us", reply_markup=keyboard(("👍 Good", "rate:5")))
    update = alice.press(sent, "Good")
    query = update["callback_query"]
    assert query["data"] == "rate:5"
    assert query["message"]["message_id"] == sent.message_id
    assert query["message"]["chat"]["id"] == ALICE
    assert await bot.answer_callback_query(query["id"], text="Thanks!", show_alert=True)
    assert tg.callback_answers[-1]["callback_query_id"] == query["id"]
    assert tg.callback_answers[-1]["text"] == "Thanks!"
    assert tg.callback_answers[-1]["show_alert"] is True
    invalid = "query is too old and response timeout expired or query ID is invalid"
    with pytest.raises(TelegramBadRequest, match=invalid):
        await bot.answer_callback_query(query["id"])
    with pytest.raises(TelegramBadRequest, match=invalid):
        await bot.answer_callback_query("12345")
    second = alice.press(sent, "Good")
    assert second["callback_query"]["id"] != query["id"]
    forged = alice.press_data(sent, "admin:delete_all")
    assert forged["callback_query"]["data"] == "admin:delete_all"
    with pytest.raises(LookupError):
        alice.press(sent, "Bad")


async def test_actor_updates_validate_in_aiogram(tg: FakeTelegram, bot: Bot) -> None:
    now = [1_700_000_000.0]
    tg.clock = lambda: now[0]
    alice = tg.person(ALICE, "Alice", phone="+447700900001")
    bob = tg.person(BOB, "Bob")
    forum = tg.group(-1005000, "Building A", forum=True)
    staff = tg.group(GROUP)
    updates = [
        alice.command("start", "ref42"),
        alice.text("hello", reply_to=1),
        alice.share_contact(),
        alice.share_contact(user_id=BOB),
        alice.photo(caption="broken window"),
        alice.sticker(),
        alice.voice(),
        alice.location(),
        bob.text("in the group", chat_id=staff),
        bob.command("help", chat_id=GROUP, mention_bot=True),
        bob.text("topic post", chat_id=forum, thread_id=7),
        staff.add_bot(bob, admin=True),
        staff.remove_bot(bob),
        alice.block_bot(),
        alice.unblock_bot(),
        *alice.album(3, caption="photos"),
    ]
    for raw in updates:
        assert as_update(bot, raw).update_id == raw["update_id"]
    ids = [raw["update_id"] for raw in updates]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    start = updates[0]["message"]
    assert start["text"] == "/start ref42"
    assert start["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert start["date"] == 1_700_000_000
    assert start["from"] == {
        "id": ALICE,
        "is_bot": False,
        "first_name": "Alice",
        "username": "alice",
        "language_code": "en",
    }
    assert updates[1]["message"]["reply_to_message"]["text"] == "/start ref42"
    assert updates[2]["message"]["contact"]["user_id"] == ALICE
    assert updates[3]["message"]["contact"]["user_id"] == BOB
    assert updates[8]["message"]["chat"]["id"] == GROUP
    assert updates[9]["message"]["text"] == "/help@frontdoor_test_bot"
    assert updates[10]["message"]["message_thread_id"] == 7
    assert updates[10]["message"]["is_topic_message"] is True
    assert updates[11]["my_chat_member"]["new_chat_member"]["status"] == "administrator"
    assert updates[12]["my_chat_member"]["new_chat_member"]["status"] == "left"
    assert updates[13]["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    album = updates[-3:]
    assert len({u["message"]["media_group_id"] for u in album}) == 1
    photo_update = as_update(bot, updates[4])
    assert photo_update.message is not None and photo_update.message.photo
    assert await bot.download(photo_update.message.photo[-1]) is not None


async def test_dispatcher_end_to_end(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def on_start(message: Message) -> None:
        await message.answer(
            f"Hi <b>{html.escape(message.from_user.first_name if message.from_user else '')}</b>",
            parse_mode="HTML",
            reply_markup=keyboard(("🛠 Report a problem", "report"), ("ℹ️ Info", "info")),
        )

    @dp.callback_query(F.data == "report")
    async def on_report(query: CallbackQuery) -> None:
        assert isinstance(query.message, Message)
        await query.message.edit_text("Describe the problem")
        await query.answer("OK")

    alice = tg.person(ALICE, "Alice")
    await dp.feed_raw_update(bot, alice.command("start"))
    menu = tg.last_bot_message(ALICE)
    assert menu.text == "Hi Alice"
    assert menu.html == "Hi <b>Alice</b>"
    assert tg.find_button(menu, "Report") == "report"

    await dp.feed_raw_update(bot, alice.press(menu, "Report"))
    assert menu.text == "Describe the problem"
    assert menu.inline_keyboard == []
    assert tg.callback_answers[-1]["text"] == "OK"
    tg.assert_healthy()


async def test_webhook_mode(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> Any:
        return message.answer(f"echo: {message.text}")  # answered inside the webhook reply

    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="s3cr3t").register(
        app, path="/hook"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        url = f"http://127.0.0.1:{port}/hook"
        assert await bot.set_webhook(url, secret_token="s3cr3t", allowed_updates=["message"])
        info = await bot.get_webhook_info()
        assert info.url == url
        assert info.allowed_updates == ["message"]
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()

        alice = tg.person(ALICE, "Alice")
        status = await tg.deliver_webhook(alice.text("ping"))
        assert status == 200
        assert tg.last_bot_message(ALICE).text == "echo: ping"
        assert tg.calls[-1].source == "webhook-reply"

        tg.webhook.secret_token = "wrong"
        assert await tg.deliver_webhook(alice.text("spoofed")) == 401
        info = await bot.get_webhook_info()
        assert info.last_error_message is not None

        assert await bot.delete_webhook(drop_pending_updates=True)
        assert (await bot.get_webhook_info()).url == ""
    finally:
        await runner.cleanup()


# ============================================================================ misc methods


async def test_commands_chat_and_misc_methods(tg: FakeTelegram, bot: Bot) -> None:
    commands = [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="Help"),
    ]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(commands[:1], language_code="de")
    scope = BotCommandScopeAllPrivateChats()
    assert await bot.set_my_commands(commands[1:], scope=scope)
    assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
    assert [c.command for c in await bot.get_my_commands(language_code="de")] == ["start"]
    assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["help"]
    assert await bot.delete_my_commands(language_code="de")
    assert await bot.get_my_commands(language_code="de") == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad-Name", description="x")])

    chat = await bot.get_chat(ALICE)
    assert chat.type == "private" and chat.first_name == "Alice" and chat.username == "alice"
    group = await bot.get_chat(GROUP)
    assert group.title == "Staff"
    member = await bot.get_chat_member(GROUP, tg.bot_id)
    assert member.status == "administrator"
    tg.set_member(GROUP, BOB, "creator")
    assert (await bot.get_chat_member(GROUP, BOB)).status == "creator"
    assert (await bot.get_chat_member(GROUP, ALICE)).status == "left"

    assert await bot.send_chat_action(ALICE, "typing")
    assert tg.chat_actions[-1] == {"chat_id": ALICE, "action": "typing", "message_thread_id": None}
    with pytest.raises(TelegramBadRequest, match="wrong parameter action"):
        await bot.send_chat_action(ALICE, "dancing")

    notice = await bot.send_message(GROUP, "Water off 10-12")
    assert await bot.pin_chat_message(GROUP, notice.message_id)
    assert tg.chats[GROUP].pinned_message_id == notice.message_id
    assert tg.last_bot_message(GROUP).message_id == notice.message_id  # service msg excluded
    pinned = (await bot.get_chat(GROUP)).pinned_message
    assert pinned is not None and pinned.message_id == notice.message_id

    assert await bot.set_chat_menu_button(chat_id=ALICE, menu_button=MenuButtonCommands())
    assert (await bot.get_chat_menu_button(chat_id=ALICE)).type == "commands"

    reply = await bot.send_message(
        ALICE,
        "re",
        reply_parameters=ReplyParameters(message_id=999, allow_sending_without_reply=True),
    )
    assert reply.reply_to_message is None
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(ALICE, "re", reply_parameters=ReplyParameters(message_id=999))
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(GROUP, "topic", message_thread_id=3)

    assert await bot.log_out()
    assert await bot.close()
    assert tg.logged_out and tg.closed
    tg.assert_healthy()


async def test_real_polling_loop(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()
    replied = asyncio.Event()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"got {message.text}")
        replied.set()

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=2)
    )
    try:
        await asyncio.sleep(0.1)
        tg.push_update(tg.person(ALICE, "Alice").text("via polling"))
        await asyncio.wait_for(replied.wait(), 5)
        assert tg.last_bot_message(ALICE).text == "got via polling"
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 10)
    tg.assert_healthy()


def test_snapshot_of_the_method_list_matches_the_official_one() -> None:
    import json

    import pytest

    from bot.emulator.spec import SHARED_SPEC, SNAPSHOT_SPEC, ApiSpec

    if not SHARED_SPEC.is_file():
        pytest.skip("the official api.json is not beside this checkout")
    official, snapshot = ApiSpec.load(SHARED_SPEC), ApiSpec.load(SNAPSHOT_SPEC)
    assert official.methods == snapshot.methods
    assert json.loads(SNAPSHOT_SPEC.read_text())["methods"]
