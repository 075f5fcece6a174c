// Pure DOM builders: data in, elements out. User text is set with textContent,
// once, here; nothing in the client uses innerHTML.
import { lang, t } from "./i18n.js";

/** `tag` with a class name and optional text, built without parsing any HTML. */
export function el(tag, className, text) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text !== undefined && text !== null) element.textContent = text;
  return element;
}

/** A <time> in the reader's local time; the full date shows on hover. */
export function renderTime(iso, withDate = false) {
  const date = new Date(iso);
  const time = el("time", "time");
  if (Number.isNaN(date.getTime())) return time;
  time.dateTime = date.toISOString();
  time.title = date.toLocaleString(lang());
  const options = withDate
    ? { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
    : { hour: "2-digit", minute: "2-digit" };
  time.textContent = date.toLocaleString(lang(), options);
  return time;
}

/** One chat message; `own` marks the reader's own messages. */
export function renderMessage(message, { own = false } = {}) {
  const item = el("li", own ? "msg own" : "msg");
  item.dataset.seq = String(message.seq);
  item.dataset.id = String(message.id);
  const meta = el("div", "msg-meta");
  meta.append(el("span", "msg-user", message.user), " ", renderTime(message.date));
  if (own) meta.append(" ", el("span", "msg-status"));
  item.append(meta, el("p", "msg-text", message.text));
  return item;
}

/** A notice from `admin` (joined, left, welcome): not a message, styled apart. */
export function renderNotice(message) {
  const item = el("li", "notice");
  item.append(el("span", "notice-text", message.text), " ", renderTime(message.date));
  return item;
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
    if (entry.error) meta.append(" ", el("span", "msg-error", entry.error));
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
  item.append(el("p", "msg-text", entry.text), meta);
  return item;
}

/** One person in the online list, with the presence dot. */
export function renderPerson(name, { self = false } = {}) {
  const item = el("li", self ? "person self" : "person");
  item.dataset.name = name;
  const dot = el("span", "presence-dot");
  dot.setAttribute("aria-hidden", "true");
  item.append(dot, el("span", "person-name", name));
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
  meta.append(el("span", "board-user", message.user), " ", room, " ", renderTime(message.date, true));
  item.append(meta, el("p", "board-text", message.text));
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
 * Notices (no seq) stay where they arrived.
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
      list.insertBefore(item, other);
      return;
    }
  }
  list.append(item);
}

/** Show `message` in the field's error slot (role="alert"), or clear it. */
export function showFieldError(slot, message) {
  slot.textContent = message || "";
  slot.hidden = !message;
  const input = slot.id && document.querySelector(`[aria-describedby~="${slot.id}"]`);
  if (input) input.setAttribute("aria-invalid", message ? "true" : "false");
}
