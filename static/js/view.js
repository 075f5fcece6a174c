// Pure DOM builders: data in, elements out. User text is set with textContent,
// once, here; nothing in the client uses innerHTML.
import { codeText, locale, t } from "./i18n.js";

/** `tag` with a class name and optional text, built without parsing any HTML. */
export function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined && text !== null) element.textContent = text;
  return element;
}

const TIME_OF_DAY = { hour: "numeric", minute: "2-digit" }; // "5:25 PM", "오후 5:25"

/**
 * A <time> in the reader's local time and language: the time of day (with the
 * date when `withDate`), the full date and time on hover (title) and on a long
 * press (see showFullTime). refreshTimes redraws it in another language.
 */
export function renderTime(iso, withDate = false) {
  const time = el("time", "time");
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return time;
  time.dateTime = date.toISOString();
  if (withDate) time.dataset.withDate = "true";
  drawTime(time);
  return time;
}

function drawTime(time) {
  const date = new Date(time.dateTime);
  const full = fullDate(date);
  time.title = full;
  const options = time.dataset.withDate ? { month: "short", day: "numeric", ...TIME_OF_DAY } : TIME_OF_DAY;
  time.textContent = time.dataset.full ? full : date.toLocaleString(locale(), options);
}

/** "Saturday, December 5, 2026 at 5:25 PM", "2026년 12월 5일 토요일 오후 5:25". */
export function fullDate(date) {
  return date.toLocaleString(locale(), { dateStyle: "full", timeStyle: "short" });
}

/** A long press on a phone has no hover: show (or hide again) the full date in place. */
export function showFullTime(time) {
  if (time.dataset.full) delete time.dataset.full;
  else time.dataset.full = "true";
  drawTime(time);
}

/** Redraw every time and day separator under `root` in the current language. */
export function refreshTimes(root) {
  for (const time of root.querySelectorAll("time.time[datetime]")) drawTime(time);
  for (const day of root.querySelectorAll("li.day")) drawDay(day);
}

/** The local calendar day of `date`, as "2026-12-05". */
function dayKey(date) {
  const pad = (number) => String(number).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "Today", "Yesterday", else the date ("Thursday, December 3", with the year if not this one). */
export function dayLabel(date, now = new Date()) {
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1);
  if (dayKey(date) === dayKey(now)) return t("day.today");
  if (dayKey(date) === dayKey(yesterday)) return t("day.yesterday");
  const options = { weekday: "long", month: "long", day: "numeric" };
  if (date.getFullYear() !== now.getFullYear()) options.year = "numeric";
  return date.toLocaleDateString(locale(), options);
}

function drawDay(item) {
  const [year, month, day] = item.dataset.day.split("-").map(Number);
  item.firstChild.textContent = dayLabel(new Date(year, month - 1, day));
}

function renderDay(key) {
  const item = el("li", "day");
  item.dataset.day = key;
  const label = el("time", "day-label");
  label.dateTime = key;
  item.append(label);
  drawDay(item);
  return item;
}

/**
 * Put a day separator before the first message or notice of each local day in
 * `list`, and take away the ones no longer needed. Separators that stay are left
 * alone, so the log's live region announces only new ones.
 */
export function placeDays(list) {
  const keep = new Set();
  let lastDay = null;
  for (const item of [...list.children]) {
    if (item.classList.contains("day")) continue;
    const time = item.querySelector("time.time[datetime]");
    if (!time) continue;
    const key = dayKey(new Date(time.dateTime));
    if (key === lastDay) continue;
    lastDay = key;
    let before = item.previousElementSibling;
    if (!(before && before.classList.contains("day") && before.dataset.day === key)) {
      before = renderDay(key);
      list.insertBefore(before, item);
    }
    keep.add(before);
  }
  for (const day of list.querySelectorAll("li.day")) {
    if (!keep.has(day)) day.remove();
  }
}

/** One chat message; `own` marks the reader's own messages. */
export function renderMessage(message, { own = false } = {}) {
  if (message.deleted) return renderTombstone(message);
  const item = el("li", "msg");
  item.dataset.seq = String(message.seq);
  item.dataset.id = String(message.id);
  const meta = el("div", "msg-meta");
  meta.append(el("span", "msg-user", message.user), " ");
  if (message.host) meta.append(renderHostBadge(), " ");
  meta.append(renderTime(message.date));
  item.append(meta, renderText(message.text, "msg-text"));
  if (own) makeOwn(item);
  return item;
}

/** A deleted message: a line saying so keeps its place (and its seq). */
export function renderTombstone(message) {
  const item = el("li", "msg msg-deleted");
  item.dataset.seq = String(message.seq);
  item.dataset.id = String(message.id);
  const text = el("p", "msg-text", t("moderation.deleted"));
  text.dataset.i18n = "moderation.deleted";
  item.append(text);
  return item;
}

/** The owner deleted message `id`: whatever shows it under `root` becomes a tombstone. */
export function showDeleted(root, id) {
  for (const item of root.querySelectorAll(`li.msg[data-id="${Number(id)}"]`)) {
    item.replaceWith(renderTombstone({ id, seq: item.dataset.seq }));
  }
}

/** The owner's "Delete" on a message (once). */
export function offerDelete(item) {
  if (item.classList.contains("msg-deleted") || item.querySelector("[data-action=\"delete\"]")) return;
  const button = el("button", "link-button msg-delete", t("moderation.delete"));
  button.type = "button";
  button.dataset.i18n = "moderation.delete";
  button.dataset.action = "delete";
  item.querySelector(".msg-meta").append(" ", button);
}

/** Show a message as the reader's own (a bubble on the right, with a status). */
export function makeOwn(item) {
  if (item.classList.contains("own")) return;
  item.classList.add("own");
  item.querySelector(".msg-meta").append(" ", el("span", "msg-status"));
}

// http(s) links in text; what ends a sentence after a link is not part of it.
const LINK_PATTERN = /\bhttps?:\/\/[^\s<>"]+/gi;
const TRAILING = /[.,;:!?'"*_~]$/;
const LINK_REL = "noopener noreferrer nofollow ugc";

/** Cut what ends a sentence off a link: a dot, a comma, a ")" it did not open. */
function trimLink(link) {
  for (;;) {
    if (TRAILING.test(link)) {
      link = link.slice(0, -1);
    } else if (link.endsWith(")") && link.split(")").length > link.split("(").length) {
      link = link.slice(0, -1);
    } else {
      return link;
    }
  }
}

/**
 * A <p> of user text with its http and https links clickable, built from text
 * nodes and <a> elements (never parsed as HTML); other schemes stay text.
 */
export function renderText(text, className) {
  const paragraph = el("p", className);
  let done = 0;
  for (const match of text.matchAll(LINK_PATTERN)) {
    const link = trimLink(match[0]);
    let url;
    try {
      url = new URL(link);
    } catch {
      continue;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") continue;
    const anchor = el("a", "msg-link", link);
    anchor.href = url.href;
    anchor.target = "_blank";
    anchor.rel = LINK_REL;
    paragraph.append(text.slice(done, match.index), anchor);
    done = match.index + link.length;
  }
  paragraph.append(text.slice(done));
  return paragraph;
}

/** A notice from `admin` (joined, left, welcome): not a message, styled apart. */
export function renderNotice(message) {
  const item = el("li", "notice");
  if (message.code) item.dataset.code = message.code;
  item.append(renderCoded(message.code, message.params, message.text, "notice-text"), " ",
    renderTime(message.date));
  return item;
}

/**
 * A span whose text comes from a code (contract v1.1) in the reader's language,
 * falling back to the server's text; it keeps what it needs to be redrawn when
 * the language changes (see refreshCoded).
 */
export function renderCoded(code, params, fallback, className) {
  const span = el("span", className);
  span.dataset.coded = JSON.stringify({ code: code || null, params: params || null, fallback: fallback || "" });
  span.textContent = codeText(code, params, fallback, codeExtras);
  return span;
}

/** Values some coded texts need that the server does not send (e.g. the text limit). */
export const codeExtras = {};

/** Redraw every coded text under `root` in the current language. */
export function refreshCoded(root) {
  for (const span of root.querySelectorAll("[data-coded]")) {
    const { code, params, fallback } = JSON.parse(span.dataset.coded);
    span.textContent = codeText(code, params, fallback, codeExtras);
  }
}

/** Show an own message's state: "chat.sending", "chat.sent", or null for none. */
export function setStatus(item, key) {
  const status = item.querySelector(".msg-status");
  if (!status) return;
  if (key) status.dataset.i18n = key;
  else delete status.dataset.i18n;
  status.textContent = key ? t(key) : "";
}

/** An outbox entry: sending…, or failed with Retry and Discard buttons. */
export function renderPending(entry) {
  const item = el("li", `msg own pending is-${entry.state}`);
  item.dataset.clientId = entry.clientId;
  const meta = el("div", "msg-meta");
  const status = el("span", "msg-status");
  status.dataset.i18n = entry.state === "failed" ? "chat.failed" : "chat.sending";
  status.textContent = t(status.dataset.i18n);
  meta.append(status);
  if (entry.state === "failed") {
    if (entry.error) meta.append(" ", renderCoded(entry.code, entry.params, entry.error, "msg-error"));
    const retry = el("button", "link-button retry", t("chat.retry"));
    retry.type = "button";
    retry.dataset.i18n = "chat.retry";
    retry.dataset.action = "retry";
    const discard = el("button", "link-button discard", t("chat.cancel"));
    discard.type = "button";
    discard.dataset.i18n = "chat.cancel";
    discard.dataset.action = "discard";
    meta.append(" ", retry, " ", discard);
  }
  item.append(renderText(entry.text, "msg-text"), meta);
  return item;
}

/**
 * The "Host" badge beside the owner's name, so visitors can tell the owner from a
 * visitor who picked a look-alike name. Its words are its accessible name.
 */
export function renderHostBadge() {
  const badge = el("span", "host-badge", t("host.badge"));
  badge.dataset.i18n = "host.badge";
  return badge;
}

/** One person in the online list, with the presence dot; `host` adds the badge. */
export function renderPerson(name, { self = false, host = false } = {}) {
  const item = el("li", self ? "person self" : "person");
  item.dataset.name = name;
  const dot = el("span", "presence-dot");
  dot.setAttribute("aria-hidden", "true");
  item.append(dot, el("span", "person-name", name));
  if (host) item.append(" ", renderHostBadge());
  if (self) {
    const you = el("span", "person-you", t("chat.you"));
    you.dataset.i18n = "chat.you";
    item.append(" ", you);
  }
  return item;
}

/** A message on the home board: who, in which room, what, when. */
export function renderBoardEntry(message) {
  const item = el("li", "board-entry");
  item.dataset.id = String(message.id);
  const meta = el("div", "board-meta");
  const room = el("a", "board-room", `#${message.room}`);
  room.href = `/?${new URLSearchParams({ room: message.room })}`;
  room.dataset.room = message.room;
  if (message.user) meta.append(el("span", "board-user", message.user), " "); // a tombstone has none
  if (message.host) meta.append(renderHostBadge(), " ");
  meta.append(room, " ", renderTime(message.date, true));
  const text = el("p", "board-text", message.deleted ? t("moderation.deleted") : message.text);
  if (message.deleted) {
    item.classList.add("board-deleted");
    text.dataset.i18n = "moderation.deleted";
  }
  item.append(meta, text);
  return item;
}

/** "X is typing…" for the names in `names`, or "" for nobody. */
export function typingText(names) {
  if (names.length === 0) return "";
  if (names.length === 1) return t("chat.typing1", { a: names[0] });
  if (names.length === 2) return t("chat.typing2", { a: names[0], b: names[1] });
  return t("chat.typingMany");
}

/**
 * Put a message element in seq order: before the first element with a larger seq.
 * Notices (no seq) stay where they arrived; a message placed before an older
 * day's separator goes before it (placeDays then puts the separators right).
 */
export function insertBySeq(list, item, seq) {
  const placed = list.querySelectorAll("li[data-seq]");
  const last = placed[placed.length - 1];
  if (!last || Number(last.dataset.seq) < seq) {
    list.append(item); // the usual case: a new message, after everything so far
    return;
  }
  for (const other of placed) {
    if (Number(other.dataset.seq) > seq) {
      const before = other.previousElementSibling;
      list.insertBefore(item, before && before.classList.contains("day") ? before : other);
      return;
    }
  }
  list.append(item);
}

/** Show `message` in the field's error slot (role="alert"), or clear it. */
export function showFieldError(slot, message) {
  delete slot.dataset.coded; // set again by a caller whose message has a code
  slot.textContent = message || "";
  slot.hidden = !message;
  const input = slot.id && document.querySelector(`[aria-describedby~="${slot.id}"]`);
  if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
}
