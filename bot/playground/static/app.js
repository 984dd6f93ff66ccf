"use strict";
// The playground page: three chat panes fed by the emulator's events (server-sent events).
// Plain JavaScript, no build step. Everything the page says comes from /strings (gettext).

const LANG_NAMES = { "en": "English", "zh-hans": "简体中文", "zh-hant": "繁體中文", "ru": "Русский" };
const S = {};
const state = { world: null, chats: new Map(), panes: {}, tz: "UTC" };

function t(key) { return S[key] || key; }

async function api(path, body, form) {
  const options = body === undefined && !form ? {} : {
    method: "POST",
    headers: form ? {} : { "Content-Type": "application/json" },
    body: form || JSON.stringify(body),
  };
  const response = await fetch(path, options);
  if (!response.ok) {
    const text = await response.text();
    throw new Error(text || response.statusText);
  }
  return response.json();
}

// ---------------------------------------------------------------- strings
async function loadStrings(lang) {
  const data = await api("/strings?lang=" + encodeURIComponent(lang));
  Object.assign(S, data.strings);
  document.documentElement.lang = data.lang.replace("_", "-");
  document.querySelectorAll("[data-s]").forEach((el) => { el.textContent = t(el.dataset.s); });
  document.querySelectorAll("[data-ph]").forEach((el) => { el.placeholder = t(el.dataset.ph); });
  document.querySelectorAll(".attach").forEach((el) => { el.title = t("photo"); });
  document.title = t("title");
  Object.values(state.panes).forEach((pane) => { fillWho(pane); render(pane); });
}

function pageLanguage() {
  const saved = localStorage.getItem("frontdoor-playground-lang");
  if (saved) return saved;
  const nav = (navigator.language || "en").toLowerCase();
  if (nav.startsWith("ru")) return "ru";
  if (nav.startsWith("zh")) return /tw|hk|mo|hant/.test(nav) ? "zh_Hant" : "zh_Hans";
  return "en";
}

// ---------------------------------------------------------------- formatting
function entityElement(entity, text) {
  const slice = text.slice(entity.offset, entity.offset + entity.length);
  const make = (tag, cls) => { const el = document.createElement(tag); if (cls) el.className = cls; return el; };
  switch (entity.type) {
    case "bold": return make("b");
    case "italic": return make("i");
    case "underline": return make("u");
    case "strikethrough": return make("s");
    case "spoiler": { const el = make("span", "spoiler"); el.addEventListener("click", () => el.classList.add("shown")); return el; }
    case "code": return make("code");
    case "pre": return make("pre");
    case "blockquote": case "expandable_blockquote": return make("blockquote");
    case "text_link": case "url": {
      const href = entity.type === "url" ? (/^https?:/i.test(slice) ? slice : "https://" + slice) : entity.url;
      if (!/^(https?:|tg:|mailto:)/i.test(href || "")) return make("span");
      const a = make("a"); a.href = href; a.target = "_blank"; a.rel = "noopener noreferrer"; return a;
    }
    case "email": { const a = make("a"); a.href = "mailto:" + slice; return a; }
    case "phone_number": { const a = make("a"); a.href = "tel:" + slice.replace(/[^+\d]/g, ""); return a; }
    case "mention": case "hashtag": case "cashtag": case "bot_command": case "text_mention": return make("span", "link");
    default: return make("span");
  }
}

// Telegram offsets count UTF-16 code units, like JavaScript strings do.
function renderEntities(parent, text, entities, start, end) {
  const sorted = entities
    .filter((e) => e.offset >= start && e.offset + e.length <= end)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  let pos = start;
  let i = 0;
  while (i < sorted.length) {
    const entity = sorted[i];
    if (entity.offset < pos) { i++; continue; }
    if (entity.offset > pos) parent.append(text.slice(pos, entity.offset));
    const stop = entity.offset + entity.length;
    const inner = [];
    let j = i + 1;
    while (j < sorted.length && sorted[j].offset < stop) { if (sorted[j].offset + sorted[j].length <= stop) inner.push(sorted[j]); j++; }
    const el = entityElement(entity, text);
    renderEntities(el, text, inner, entity.offset, stop);
    parent.append(el);
    pos = stop;
    i = j;
  }
  if (pos < end) parent.append(text.slice(pos, end));
}

function formatTime(unix) {
  try {
    return new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
      timeZone: state.tz, weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
    }).format(new Date(unix * 1000));
  } catch (_error) { return new Date(unix * 1000).toISOString(); }
}

// ---------------------------------------------------------------- panes
function paneChat(pane) {
  if (pane.kind === "resident") return { chatId: pane.who, thread: null };
  if (pane.view === "private") return { chatId: pane.who, thread: null };
  if (pane.kind === "managers") return { chatId: state.world.managers.chat_id, thread: null };
  const dept = state.world.departments.find((d) => d.code === pane.dept);
  return { chatId: dept.chat_id, thread: dept.thread_id };
}

function people(pane) {
  if (pane.kind === "resident") return state.world.residents;
  if (pane.kind === "managers") return state.world.managers.people;
  return state.world.departments.find((d) => d.code === pane.dept).technicians;
}

function participant(id) {
  const all = [...state.world.residents, ...state.world.managers.people,
    ...state.world.departments.flatMap((d) => d.technicians)];
  return all.find((p) => p.id === id);
}

function fillWho(pane) {
  if (!state.world) return;
  const select = pane.el.querySelector(".who");
  select.replaceChildren();
  for (const person of people(pane)) {
    const option = new Option(person.place ? `${person.name} · ${person.place}` : person.name, String(person.id));
    select.append(option);
  }
  if (pane.kind === "resident") select.append(new Option(t("new_resident"), "new"));
  select.value = String(pane.who);
  const lang = pane.el.querySelector(".lang");
  if (!lang.options.length) {
    for (const code of state.world.languages) lang.append(new Option(LANG_NAMES[code] || code, code));
  }
  const who = participant(pane.who);
  if (who) lang.value = who.language;
  const dept = pane.el.querySelector(".dept");
  if (dept && !dept.options.length) {
    for (const d of state.world.departments) dept.append(new Option(d.name, d.code));
    dept.value = pane.dept;
  }
}

async function loadChat(chatId) {
  const data = await api("/api/chats/" + chatId);
  const chat = { messages: new Map(), reply_keyboard: data.reply_keyboard };
  for (const message of data.messages) chat.messages.set(message.id, message);
  state.chats.set(chatId, chat);
  return chat;
}

async function showPane(pane) {
  const { chatId } = paneChat(pane);
  pane.replyTo = null;
  await loadChat(chatId);
  render(pane, true);
}

function messageElement(pane, message, chatId) {
  const mine = !message.from_bot && message.from_id === pane.who;
  const el = document.createElement("div");
  el.className = "msg " + (mine ? "out" : "in") + (message.from_bot ? " bot" : "");
  el.dataset.id = message.id;
  const isGroup = chatId < 0;
  if (isGroup || !mine) {
    const name = document.createElement("div");
    name.className = "sender";
    name.textContent = message.from_name;
    el.append(name);
  }
  if (message.reply_to) {
    const quote = document.createElement("div");
    quote.className = "quote";
    quote.textContent = message.reply_to.text || "…";
    el.append(quote);
  }
  if (message.photo) {
    const img = document.createElement("img");
    img.src = "/api/files/" + encodeURIComponent(message.photo);
    img.alt = "photo";
    img.className = "photo";
    img.loading = "lazy";
    el.append(img);
  }
  if (message.document) {
    const doc = message.document;
    if (doc.mime.startsWith("image/")) {
      const img = document.createElement("img");
      img.src = "/api/files/" + encodeURIComponent(doc.file_id);
      img.alt = doc.name;
      img.className = "photo chart";
      el.append(img);
    }
    const link = document.createElement("a");
    link.className = "document";
    link.href = "/api/files/" + encodeURIComponent(doc.file_id) + "?download=1";
    link.download = doc.name;
    link.textContent = "📄 " + doc.name + (doc.size ? ` (${Math.ceil(doc.size / 1024)} KB)` : "");
    el.append(link);
  }
  if (message.contact) {
    const contact = document.createElement("div");
    contact.className = "contact";
    contact.textContent = `👤 ${message.contact.name} ${message.contact.phone}`;
    el.append(contact);
  }
  if (message.other) {
    const other = document.createElement("div");
    other.className = "other";
    other.textContent = "[" + message.other + "]";
    el.append(other);
  }
  if (message.text) {
    const body = document.createElement("div");
    body.className = "text";
    renderEntities(body, message.text, message.entities || [], 0, message.text.length);
    el.append(body);
  }
  const meta = document.createElement("div");
  meta.className = "meta";
  meta.textContent = formatTime(message.date) + (message.edited ? " · " + t("edited") : "");
  const reply = document.createElement("button");
  reply.type = "button";
  reply.className = "reply-btn";
  reply.title = t("reply");
  reply.textContent = "↩";
  reply.addEventListener("click", () => { pane.replyTo = message; render(pane); pane.el.querySelector(".text-input").focus(); });
  meta.append(reply);
  el.append(meta);
  if (message.keyboard && message.keyboard.length) {
    const kb = document.createElement("div");
    kb.className = "ikb";
    for (const row of message.keyboard) {
      const rowEl = document.createElement("div");
      rowEl.className = "ikb-row";
      for (const button of row) {
        let b;
        if (button.url) {
          b = document.createElement("a");
          b.href = button.url; b.target = "_blank"; b.rel = "noopener noreferrer";
        } else {
          b = document.createElement("button");
          b.type = "button";
          b.addEventListener("click", () => act(pane, "/api/press", { chat_id: chatId, message_id: message.id, data: button.data }));
        }
        b.className = "ikb-button";
        b.textContent = button.text;
        rowEl.append(b);
      }
      kb.append(rowEl);
    }
    el.append(kb);
  }
  return el;
}

function render(pane, scrollToEnd) {
  if (!state.world) return;
  const { chatId, thread } = paneChat(pane);
  const chat = state.chats.get(chatId);
  const list = pane.el.querySelector(".messages");
  const atEnd = scrollToEnd || list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren();
  const messages = chat ? [...chat.messages.values()].filter((m) => !m.deleted && (thread === null || m.thread_id === thread)) : [];
  messages.sort((a, b) => a.id - b.id);
  for (const message of messages) list.append(messageElement(pane, message, chatId));
  if (!messages.length) {
    const empty = document.createElement("div");
    empty.className = "empty";
    const p = document.createElement("p");
    p.textContent = chatId > 0 ? t("hint") : t("empty");
    empty.append(p);
    if (chatId > 0) {
      const start = document.createElement("button");
      start.type = "button";
      start.className = "start";
      start.textContent = t("start");
      start.addEventListener("click", () => act(pane, "/api/send", { chat_id: chatId, text: "/start" }));
      empty.append(start);
    }
    list.append(empty);
  }
  if (atEnd) list.scrollTop = list.scrollHeight;
  // reply keyboard (shown in private chats)
  const rkb = pane.el.querySelector(".reply-kb");
  rkb.replaceChildren();
  const keyboard = chat && chatId > 0 ? chat.reply_keyboard : null;
  for (const row of keyboard || []) {
    const rowEl = document.createElement("div");
    rowEl.className = "rkb-row";
    for (const button of row) {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "rkb-button";
      b.textContent = button.text;
      b.addEventListener("click", () => button.contact
        ? act(pane, "/api/contact", { chat_id: chatId })
        : act(pane, "/api/tap", { chat_id: chatId, text: button.text }));
      rowEl.append(b);
    }
    rkb.append(rowEl);
  }
  const replying = pane.el.querySelector(".replying");
  replying.hidden = !pane.replyTo;
  if (pane.replyTo) replying.querySelector("q").textContent = (pane.replyTo.text || "…").slice(0, 60);
}

async function act(pane, path, body) {
  const { thread } = paneChat(pane);
  try {
    await api(path, { user_id: pane.who, thread_id: thread, ...body });
  } catch (error) {
    toast(pane, t("failed") + " " + error.message);
  }
}

function toast(pane, text) {
  const el = pane.el.querySelector(".toast");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(pane.toastTimer);
  pane.toastTimer = setTimeout(() => { el.hidden = true; }, 4000);
}

function alertBox(pane, text) {
  const box = pane.el.querySelector(".alert");
  box.querySelector("p").textContent = text;
  box.hidden = false;
}

function setupPane(kind) {
  const el = document.querySelector(`[data-pane="${kind}"]`);
  el.append(document.getElementById("chat-template").content.cloneNode(true));
  const pane = { kind, el, view: "group", who: null, dept: null, replyTo: null };
  const world = state.world;
  if (kind === "resident") pane.who = world.residents[1].id;
  if (kind === "group") { pane.dept = world.departments[0].code; pane.who = world.departments[0].technicians[0].id; }
  if (kind === "managers") pane.who = world.managers.people[0].id;
  fillWho(pane);
  el.querySelector(".who").addEventListener("change", async (event) => {
    const value = event.target.value;
    const form = el.querySelector(".new-resident");
    if (value === "new") { form.hidden = false; form.querySelector("input").focus(); return; }
    if (form) form.hidden = true;
    pane.who = Number(value);
    fillWho(pane);
    await showPane(pane);
  });
  el.querySelector(".lang").addEventListener("change", async (event) => {
    await act(pane, "/api/language", { language: event.target.value });
    const who = participant(pane.who);
    if (who) who.language = event.target.value;
  });
  const dept = el.querySelector(".dept");
  if (dept) dept.addEventListener("change", async () => {
    pane.dept = dept.value;
    pane.who = people(pane)[0].id;
    fillWho(pane);
    await showPane(pane);
  });
  el.querySelectorAll(".view").forEach((button) => button.addEventListener("click", async () => {
    pane.view = button.dataset.view;
    el.querySelectorAll(".view").forEach((b) => b.classList.toggle("on", b === button));
    await showPane(pane);
  }));
  const newForm = el.querySelector(".new-resident");
  if (newForm) newForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(newForm);
    try {
      const person = await api("/api/residents", { name: data.get("name"), phone: data.get("phone"), language: el.querySelector(".lang").value || "en" });
      state.world.residents.push(person);
      pane.who = person.id;
      newForm.hidden = true;
      newForm.reset();
      fillWho(pane);
      await showPane(pane);
    } catch (error) { toast(pane, t("failed") + " " + error.message); }
  });
  const composer = el.querySelector(".composer");
  const input = el.querySelector(".text-input");
  composer.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    const { chatId } = paneChat(pane);
    const reply = pane.replyTo ? pane.replyTo.id : null;
    input.value = "";
    pane.replyTo = null;
    render(pane);
    await act(pane, "/api/send", { chat_id: chatId, text, reply_to: reply });
  });
  el.querySelector(".photo-input").addEventListener("change", async (event) => {
    const file = event.target.files[0];
    if (!file) return;
    const { chatId, thread } = paneChat(pane);
    const form = new FormData();
    form.append("user_id", String(pane.who));
    form.append("chat_id", String(chatId));
    form.append("file", file, file.name);
    if (thread !== null) form.append("thread_id", String(thread));
    if (input.value.trim()) form.append("caption", input.value.trim());
    if (pane.replyTo) form.append("reply_to", String(pane.replyTo.id));
    input.value = "";
    pane.replyTo = null;
    event.target.value = "";
    try { await api("/api/photo", undefined, form); } catch (error) { toast(pane, t("failed") + " " + error.message); }
  });
  el.querySelector(".cancel-reply").addEventListener("click", () => { pane.replyTo = null; render(pane); });
  el.querySelector(".alert button").addEventListener("click", () => { el.querySelector(".alert").hidden = true; });
  state.panes[kind] = pane;
  return pane;
}

// ---------------------------------------------------------------- events
function showClock(clock) {
  const out = document.getElementById("clock-now");
  out.textContent = formatTime(Date.parse(clock.now) / 1000);
  out.dataset.now = clock.now;
}

function onEvent(event) {
  if (event.type === "hello" || event.type === "clock") { showClock(event); return; }
  if (event.type === "alert") {
    for (const pane of Object.values(state.panes)) {
      if (pane.who !== event.user_id) continue;
      if (event.show_alert) alertBox(pane, event.text); else toast(pane, event.text);
    }
    return;
  }
  const message = event.message;
  if (!message) return;
  const chat = state.chats.get(message.chat_id);
  if (!chat) return; // not loaded: fetched in full when a pane shows it
  if (event.type === "delete") chat.messages.delete(message.id); else chat.messages.set(message.id, message);
  chat.reply_keyboard = event.reply_keyboard;
  for (const pane of Object.values(state.panes)) {
    if (paneChat(pane).chatId === message.chat_id) render(pane, event.type === "message");
  }
}

function connect() {
  const source = new EventSource("/api/events");
  source.onmessage = (e) => onEvent(JSON.parse(e.data));
  source.onopen = () => {
    document.body.classList.remove("offline");
    Object.values(state.panes).forEach((pane) => showPane(pane));
  };
  source.onerror = () => { document.body.classList.add("offline"); };
}

// ---------------------------------------------------------------- start
async function main() {
  state.world = await api("/api/world");
  state.tz = state.world.timezone;
  const lang = pageLanguage();
  document.getElementById("page-lang").value = lang;
  for (const kind of ["resident", "group", "managers"]) setupPane(kind);
  await loadStrings(lang);
  showClock(state.world.clock);
  document.getElementById("page-lang").addEventListener("change", (event) => {
    localStorage.setItem("frontdoor-playground-lang", event.target.value);
    loadStrings(event.target.value);
  });
  const advance = async (unit, amount) => {
    try { showClock(await api("/api/clock", { [unit]: amount })); }
    catch (error) { toast(state.panes.resident, t("failed") + " " + error.message); }
  };
  document.querySelectorAll("[data-advance]").forEach((button) => button.addEventListener("click", () => {
    const [unit, amount] = button.dataset.advance.split(":");
    advance(unit, Number(amount));
  }));
  document.getElementById("clock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    advance(document.getElementById("clock-unit").value, Number(document.getElementById("clock-amount").value));
  });
  document.querySelectorAll(".switcher button").forEach((button) => button.addEventListener("click", () => {
    document.querySelectorAll(".switcher button").forEach((b) => b.classList.toggle("on", b === button));
    document.querySelectorAll(".pane").forEach((p) => p.classList.toggle("on", p.dataset.pane === button.dataset.show));
  }));
  await Promise.all(Object.values(state.panes).map((pane) => showPane(pane)));
  connect();
  document.body.dataset.ready = "1";
}

main();
