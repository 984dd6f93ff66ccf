"""The loop in Chinese, binding groups, and technicians who never opened the bot."""

from tests.e2e.harness import PLUMBING, Stack


async def test_whole_loop_in_simplified_chinese(stack: Stack) -> None:
    alice = await stack.register("alice", language="zh-hans")
    assert "101" in stack.last(alice.id).content and "Block A" in stack.last(alice.id).content
    assert "新建工单" in str(stack.last(alice.id).reply_markup)
    await stack.feed(alice.command("new"))
    await stack.feed(alice.press(stack.last(alice.id), "报修"))
    await stack.feed(alice.press(stack.last(alice.id), "水龙头漏水"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "🏠 我家（户内）"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "否"))
    await stack.feed(alice.text("厨房水龙头一直滴水"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "跳过"))
    await stack.feed(alice.press(stack.keyboard(alice.id), "提交"))
    confirmation = stack.last(alice.id).content
    assert "R-000001" in confirmation and "30 分钟" in confirmation

    sam = await stack.staff("sam")
    await stack.feed(sam.press(stack.card(PLUMBING, "R-000001"), "Accept"))
    assert "Sam Carter" in stack.last(alice.id).content
    await stack.feed(sam.press(stack.card(PLUMBING, "R-000001"), "On my way"))
    await stack.feed(sam.press(stack.card(PLUMBING, "R-000001"), "Start work"))
    await stack.feed(sam.press(stack.card(PLUMBING, "R-000001"), "Done"))
    await stack.feed(sam.text("换了垫圈"))
    await stack.feed(sam.press(stack.last(sam.id), "Skip"))
    resolved = stack.last(alice.id)
    assert "换了垫圈" in resolved.content
    await stack.feed(alice.press(resolved, "已修好"))
    assert "Status: closed" in stack.card(PLUMBING, "R-000001").content


async def test_language_switch_changes_the_menu(stack: Stack) -> None:
    alice = await stack.register("alice")
    await stack.feed(alice.command("language"))
    await stack.feed(alice.press(stack.last(alice.id), "Русский"))
    assert "Новая заявка" in str(stack.last(alice.id).reply_markup)
    await stack.feed(alice.tap_reply_button("📋"))
    assert "заяв" in stack.last(alice.id).content and "requests" not in stack.last(alice.id).content


async def test_technician_who_never_opened_the_bot_is_asked_once_in_the_group(stack: Stack) -> None:
    alice = await stack.register("alice")
    sam = stack.person("sam")  # never pressed Start
    first, second = await stack.file_quick(alice, "One"), await stack.file_quick(alice, "Two")
    await stack.feed(sam.press(stack.card(PLUMBING, first), "Accept"))
    await stack.feed(sam.press(stack.card(PLUMBING, second), "Accept"))
    nudges = [t for t in stack.texts(PLUMBING) if "open a private chat" in t]
    assert len(nudges) == 1
    await stack.feed(sam.start())
    briefs = [t for t in stack.texts(sam.id) if "You took" in t]
    assert len(briefs) == 2 and all("+447700900001" in b for b in briefs)


async def test_admin_binds_a_group_and_waiting_cards_arrive(stack: Stack) -> None:
    security_group = stack.tg.group(-1004, "Security")
    ada, sam = stack.person("ada"), stack.person("sam")
    await stack.feed(sam.command("bind", "security", chat_id=security_group))
    assert not stack.tg.bot_messages(-1004)  # non-admins are ignored
    await stack.feed(ada.command("bind", "nowhere", chat_id=security_group))
    assert "Unknown department" in stack.last(-1004).content
    await stack.feed(ada.command("bind", "security", chat_id=security_group))
    assert "requests for Security" in stack.last(-1004).content


async def test_forum_topic_binding_keeps_cards_in_the_topic(stack: Stack) -> None:
    forum = stack.tg.group(-1005, "Estate staff", forum=True)
    ada = stack.person("ada")
    await stack.feed(ada.command("bind", "electrical", chat_id=forum, thread_id=77))
    alice = await stack.register("alice")
    await stack.file_repair(alice, category="Light out", description="Hall light")
    card = stack.card(-1005, "R-000001")
    assert card.message_thread_id == 77
