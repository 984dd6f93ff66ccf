"""The playground page in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
no downloaded browser): the whole repair loop clicked on the page, ending with /stats in the
managers' pane, and a screenshot kept as an artifact (artifacts/playground.png)."""

import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.emulator.media import tiny_png
from bot.playground import Playground

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday, 10:00 in London
WAIT = 20_000  # ms

if not CHROMIUM.exists() and os.environ.get("CI") != "true":
    pytest.skip("no /usr/bin/chromium (Debian's chromium package)", allow_module_level=True)

from playwright.async_api import Locator, Page, async_playwright, expect  # noqa: E402


@pytest.fixture
async def playground(tmp_path: Path) -> AsyncIterator[Playground]:
    running = Playground(port=0, db=tmp_path / "playground.db", start=START)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def page(playground: Playground) -> AsyncIterator[Page]:
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            context = await browser.new_context(viewport={"width": 1500, "height": 900})
            opened = await context.new_page()
            problems: list[str] = []
            opened.on("pageerror", lambda error: problems.append(str(error)))
            await opened.goto(playground.url)
            await expect(opened.locator("body[data-ready='1']")).to_have_count(1, timeout=WAIT)
            yield opened
            assert not problems, problems
        finally:
            await browser.close()


def pane(page: Page, name: str) -> Locator:
    return page.locator(f"[data-pane='{name}']")


def button(where: Locator, text: str) -> Locator:
    """The newest inline button with this text in the pane."""
    return where.locator("button.ikb-button", has_text=text).last


async def says(where: Locator, text: str) -> None:
    await expect(where.locator(".msg.bot .text", has_text=text).last).to_be_visible(timeout=WAIT)


async def test_the_whole_repair_loop_on_the_page(page: Page, tmp_path: Path) -> None:
    resident, group, managers = pane(page, "resident"), pane(page, "group"), pane(page, "managers")

    # the resident: Ben Brown has not registered yet
    await resident.locator("select.who").select_option(label="Ben Brown · A-101")
    await resident.locator("button.start").click()
    await says(resident, "share your phone number")
    await resident.locator("button.rkb-button", has_text="Share my phone number").click()
    await says(resident, "registered to flat 101, Block A")

    # a repair with a photo
    await resident.locator("button.rkb-button", has_text="New request").click()
    for label in ("Repair", "Leaking tap", "My flat", "No"):
        await expect(button(resident, label)).to_be_visible(timeout=WAIT)
        count = await resident.locator(".msg.bot").count()
        await button(resident, label).click()
        await expect(resident.locator(".msg.bot")).not_to_have_count(count, timeout=WAIT)
    await resident.locator(".text-input").fill("The bathroom tap drips")
    await resident.locator("button.send").click()
    await says(resident, "photos")
    photo = tmp_path / "tap.png"
    photo.write_bytes(tiny_png())
    await resident.locator(".photo-input").set_input_files(str(photo))
    await says(resident, "Photo received")
    await expect(resident.locator(".msg.out img.photo")).to_have_count(1, timeout=WAIT)
    await button(resident, "Done").click()
    await expect(button(resident, "Submit")).to_be_visible(timeout=WAIT)
    await button(resident, "Submit").click()
    await says(resident, "R-000008 is registered")

    # the card in the plumbing group; Sam Carter accepts
    card = group.locator(".msg.bot").filter(has_text="R-000008 · ").filter(has_text="Status:").last
    await expect(card.locator("button", has_text="Accept")).to_be_visible(timeout=WAIT)
    await expect(group.locator(".msg img.photo")).not_to_have_count(0, timeout=WAIT)
    await card.locator("button", has_text="Accept").click()
    await says(resident, "Sam Carter has taken your request")
    await expect(card).to_contain_text("Taken by Sam Carter", timeout=WAIT)
    await expect(card.locator(".meta")).to_contain_text("edited")

    # done: the note goes to the bot in Sam's private chat
    await card.locator("button", has_text="Done").click()
    await expect(group.locator(".toast")).to_contain_text("privately", timeout=WAIT)
    await group.locator("button.view[data-view='private']").click()
    await says(group, "completion note for R-000008")
    await group.locator(".text-input").fill("Replaced the washer")
    await group.locator("button.send").click()
    await expect(button(group, "Skip")).to_be_visible(timeout=WAIT)
    await button(group, "Skip").click()

    # the resident confirms and rates
    await says(resident, "R-000008: resolved by Sam Carter")
    await button(resident, "Yes, fixed").click()
    await says(resident, "How satisfied")
    await button(resident, "⭐⭐⭐⭐⭐").click()
    await expect(resident.locator(".msg.bot", has_text="R-000008").last).to_be_visible()

    # the managers' chat: /stats counts it
    await managers.locator(".text-input").fill("/stats")
    await managers.locator("button.send").click()
    stats = managers.locator(".msg.bot .text", has_text="Requests registered").last
    await expect(stats).to_contain_text(re.compile(r"Requests registered: 4\b"), timeout=WAIT)
    await group.locator("button.view[data-view='group']").click()
    await expect(card).to_contain_text("Status: closed", timeout=WAIT)

    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / "playground.png"))
    assert (ARTIFACTS / "playground.png").stat().st_size > 10_000


async def test_clock_and_page_language(page: Page) -> None:
    before = await page.locator("#clock-now").get_attribute("data-now")
    await page.locator("button.tick[data-advance='days:1']").click()
    await expect(page.locator("#clock-now")).not_to_have_attribute("data-now", before or "", timeout=WAIT)
    assert await page.locator("#clock-now").get_attribute("data-now") == "2026-11-25T10:00:00+00:00"
    await page.locator("[data-pane='managers'] .view[data-view='group']").click()
    await says(pane(page, "managers"), "Daily digest for 2026-11-24")

    await page.locator("#page-lang").select_option("zh_Hant")
    await expect(page.locator("[data-pane='resident'] button.send")).to_have_text("傳送", timeout=WAIT)
    await expect(page.locator("h1")).to_have_text("Frontdoor 體驗場")

    # phone-sized: one pane at a time, switched by tabs
    await page.set_viewport_size({"width": 390, "height": 800})
    await expect(page.locator("[data-pane='group']")).to_be_hidden()
    await page.locator(".switcher button[data-show='group']").click()
    await expect(page.locator("[data-pane='group']")).to_be_visible()
    await expect(page.locator("[data-pane='resident']")).to_be_hidden()
