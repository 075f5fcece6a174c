// Wires the chat panel of /chat, /intro and /embed: the connection (client.js)
// to the DOM (view.js), and the reader's keys and clicks to the connection.
import { ChatConnection, isNotice, nameKey, OWN_KEY, ownIds } from "./client.js";
import { codeText, locale, onLanguageChange, t } from "./i18n.js";
import { attachCounter, fieldOfError, readSettings, validateField } from "./forms.js";
import * as hostControls from "./hostcontrols.js";
import * as view from "./view.js";

const NICKNAME_KEY = "comongus.nickname";
const ROOM_KEY = "comongus.room"; // the room joined and not left: /intro and /embed rejoin it on reload
const JOIN_ERROR_KEY = "comongus.joinError";
const TYPING_IDLE_MS = 3000; // quiet this long: "stopped typing"
const TYPING_REFRESH_MS = 2500; // still typing: say so again, before the others forget
const TYPING_STALE_MS = 6000;
const STICKY_PX = 48;
const LONG_PRESS_MS = 500;
const TOP_PX = 200; // this close to the top of the log, older messages are loaded
// The join form field a refused join is about, by the ack's code (contract v1.1).
const JOIN_ERROR_FIELDS = {
  name_taken: "name", name_invalid: "name", name_reserved: "name", room_invalid: "room",
};

const settings = readSettings();
view.codeExtras.max = settings.maxText;
const $ = (id) => document.getElementById(id);
const dom = {
  conn: $("conn-state"),
  roomName: $("chat-room-name"),
  joinForm: $("join-form"),
  joinName: $("join-name"),
  joinNameError: $("join-name-error"),
  joinRoomField: $("join-room-field"),
  joinRoom: $("join-room"),
  joinRoomError: $("join-room-error"),
  body: $("chat-body"),
  scroller: $("log-scroll"),
  loadEarlier: $("load-earlier"),
  messages: $("messages"),
  outbox: $("outbox"),
  jump: $("jump-latest"),
  typing: $("typing"),
  composer: $("composer"),
  text: $("composer-text"),
  people: $("people"),
  peopleCount: $("people-count"),
  leave: $("leave"),
  offline: $("offline"),
  offlineNext: $("offline-next"),
  retryNow: $("retry-now"),
  peoplePanel: $("people-panel"),
  peopleStale: $("people-stale"),
};

let connection = null;
let me = "";
let typingSent = false;
let typingSentAt = 0;
let typingTimer = null;
const typingNames = new Map(); // name -> timer that forgets a silent typist
let isHost = false; // this page chats as the owner (the join ack lists it with host: true)
let roomSettings = { locked: false, slowModeSeconds: 0 };
let removedBy = null; // the `banned` notice that took this page out of the room
let shownPeople = []; // the last list drawn, to draw again in another language
// Under the composer: "This room is locked", or the slow-mode hint.
const roomNotice = view.el("p", "composer-notice");
roomNotice.hidden = true;
roomNotice.setAttribute("role", "status");
dom.composer.before(roomNotice);

// ------------------------------------------------------------ joining

function start(name, room) {
  me = name;
  dom.joinForm.hidden = true;
  dom.body.hidden = false;
  dom.conn.hidden = false;
  dom.roomName.textContent = room;
  connection = new ChatConnection({
    name, room, on: handlers, transports: forcedTransports(), replayLimit: settings.replayLimit,
  });
  connection.start();
}

/** `?transport=polling` keeps the page on long-polling (to try a proxy's path). */
function forcedTransports() {
  const wanted = new URLSearchParams(location.search).get("transport");
  return wanted === "polling" ? ["polling"] : undefined;
}

/** The join form, with `error` ({text, field}) shown next to its field, if any. */
function showJoinForm(error) {
  dom.body.hidden = true;
  dom.conn.hidden = true; // no connection until the visitor joins
  dom.joinForm.hidden = false;
  dom.roomName.textContent = settings.room || "";
  dom.joinRoomField.hidden = Boolean(settings.room);
  if (!dom.joinName.value) dom.joinName.value = remembered(NICKNAME_KEY) || "";
  const roomError = Boolean(error) && !settings.room && error.field === "room";
  view.showFieldError(dom.joinNameError, error && !roomError ? error.text : "");
  view.showFieldError(dom.joinRoomError, roomError ? error.text : "");
  if (!error) return;
  // Coded, so a language switch redraws it (refreshCoded).
  if (error.coded) (roomError ? dom.joinRoomError : dom.joinNameError).dataset.coded = error.coded;
  (roomError ? dom.joinRoom : dom.joinName).focus();
}

/** A refused join ({error, code, params}) as the text to show and the field it is about. */
function joinError(reason) {
  return {
    text: codeText(reason.code, reason.params, reason.error, view.codeExtras),
    coded: reason.code
      ? JSON.stringify({ code: reason.code, params: reason.params, fallback: reason.error }) : null,
    field: JOIN_ERROR_FIELDS[reason.code] || fieldOfError(reason.error, ["room"], "name"),
  };
}

function onJoinSubmit(event) {
  event.preventDefault();
  const nameError = validateField(dom.joinName, settings.maxName);
  const roomError = settings.room ? "" : validateField(dom.joinRoom, settings.maxRoom);
  view.showFieldError(dom.joinNameError, nameError);
  view.showFieldError(dom.joinRoomError, roomError);
  if (nameError || roomError) {
    (nameError ? dom.joinName : dom.joinRoom).focus();
    return;
  }
  start(dom.joinName.value.trim(), settings.room || dom.joinRoom.value.trim());
}

function resetPanel() {
  dom.messages.replaceChildren();
  dom.outbox.replaceChildren();
  dom.people.replaceChildren();
  dom.peopleCount.textContent = "0";
  dom.loadEarlier.hidden = true;
  dom.jump.hidden = true;
  hostControls.disable();
  isHost = false;
  removedBy = null;
  clearTyping();
  typingSent = false;
  countingUnread = false; // the next room's history is not news
  connection = null;
}

// ------------------------------------------------------------ what the server says

const handlers = {
  state(state, { nextTry = null } = {}) {
    dom.conn.dataset.state = state;
    dom.conn.dataset.i18n = `conn.${state}`;
    dom.conn.textContent = t(`conn.${state}`);
    const down = state === "reconnecting" || state === "offline";
    dom.composer.classList.toggle("is-offline", down);
    drawOffline(state, nextTry);
    // Who is online is not known while we are not: say so, in words as well as grey.
    const stale = down && dom.people.children.length > 0;
    dom.peoplePanel.classList.toggle("is-stale", stale);
    dom.peopleStale.hidden = !stale;
  },

  joined({ user, users, first }) {
    me = user;
    isHost = users.some((entry) => entry.host && sameName(entry.name, user));
    if (isHost) {
      for (const item of dom.messages.querySelectorAll("li.msg")) view.offerDelete(item);
      hostControls.enable(connection.room);
    } else {
      hostControls.disable();
    }
    drawRoomSettings();
    countingUnread = true; // from here on messages are new, not the history
    remember(NICKNAME_KEY, user);
    remember(ROOM_KEY, connection.room);
    drawPeople(users);
    updateLoadEarlier();
    if (first) {
      scrollToBottom();
      dom.text.focus();
    }
  },

  joinFailed(reason) {
    const error = joinError(reason);
    if (settings.page === "chat") {
      // /rtcjoin shows the reason next to the field it is about.
      remember(JOIN_ERROR_KEY,
        JSON.stringify({ name: me, room: settings.room, error: error.text, field: error.field }),
        sessionStorage);
      const query = new URLSearchParams({ name: me, room: settings.room });
      location.replace(`/rtcjoin?${query}`);
      return;
    }
    resetPanel();
    showJoinForm(error);
  },

  reset() {
    location.reload(); // the server's history was replaced; draw it afresh
  },

  message(message, { own = false } = {}) {
    const stick = isNearBottom();
    if (isNotice(message)) {
      dom.messages.append(view.renderNotice(message));
    } else {
      const item = view.renderMessage(message, { own });
      if (isHost) view.offerDelete(item);
      view.insertBySeq(dom.messages, item, message.seq);
      stopShowingTyping(message.user);
      if (!own) countUnread();
    }
    scheduleDays();
    afterAppend(stick);
    if (!loadingEarlier) updateLoadEarlier(); // else once the page is in (keeping the focus)
  },

  messageDeleted({ id }) {
    view.showDeleted(dom.messages, id);
  },

  roomSettings({ locked, slowModeSeconds }) {
    roomSettings = { locked: Boolean(locked), slowModeSeconds: Number(slowModeSeconds) || 0 };
    hostControls.showSettings(roomSettings);
    drawRoomSettings();
  },

  /** The host banned this page's name: out of the room, saying why and until when. */
  removed(notice) {
    removedBy = notice;
    drawPeople([]);
    clearTyping();
    drawRoomSettings();
  },

  roomData(users) {
    drawPeople(users);
    const present = new Set(users.map((user) => user.name.toLowerCase()));
    for (const name of [...typingNames.keys()]) {
      if (!present.has(name.toLowerCase())) stopShowingTyping(name);
    }
  },

  typing({ user, typing }) {
    if (sameName(user, me)) return;
    if (typing) {
      clearTimeout(typingNames.get(user));
      typingNames.set(user, setTimeout(() => stopShowingTyping(user), TYPING_STALE_MS));
      drawTyping();
    } else {
      stopShowingTyping(user);
    }
  },

  outbox(entry) {
    const stick = isNearBottom();
    const existing = dom.outbox.querySelector(`li[data-client-id="${entry.clientId}"]`);
    const delivered = (seq) => dom.messages.querySelector(`li[data-seq="${seq}"]`);
    const echo = entry.echoSeq === undefined ? null : delivered(entry.echoSeq);
    if (echo && entry.state === "sending") {
      // Its broadcast came before its ack: show it once, in place, still "sending…".
      if (existing) existing.remove();
      view.setStatus(echo, "chat.sending");
    } else if (entry.state === "sent" || entry.state === "discarded") {
      if (existing) existing.remove();
      if (echo) view.setStatus(echo, null);
      const sent = entry.state === "sent" && delivered(entry.message.seq);
      if (sent) {
        view.makeOwn(sent); // it may have come back in a replay before its ack
        view.setStatus(sent, "chat.sent");
      }
    } else {
      if (echo) view.setStatus(echo, null);
      const item = view.renderPending(entry);
      if (existing) existing.replaceWith(item);
      else dom.outbox.append(item);
    }
    afterAppend(stick || entry.state === "sending");
  },
};

/** The banner while disconnected: when the next try is, and a button to try now. */
function drawOffline(state, nextTry) {
  const retrying = state === "reconnecting" || (state === "connecting" && nextTry !== null);
  dom.offline.hidden = !retrying;
  if (!retrying) return;
  if (nextTry === null) {
    dom.offlineNext.textContent = t("offline.trying");
    delete dom.offline.dataset.nextTry;
    return;
  }
  dom.offline.dataset.nextTry = String(nextTry);
  const time = new Date(nextTry).toLocaleTimeString(locale(), {
    hour: "numeric", minute: "2-digit", second: "2-digit",
  });
  dom.offlineNext.textContent = t("offline.next", { time });
}

/** Names are one person when they match ignoring case and width (as the server does). */
function sameName(a, b) {
  return Boolean(a) && Boolean(b) && nameKey(a) === nameKey(b);
}

function drawPeople(users) {
  shownPeople = [...users].sort((a, b) => a.name.localeCompare(b.name));
  // A redrawn list must not drop the keyboard's place on a person's menu button.
  const focused = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.menuFor : undefined;
  dom.people.replaceChildren(...shownPeople.map((user) => {
    const item = view.renderPerson(user.name, { self: sameName(user.name, me), host: Boolean(user.host) });
    hostControls.decoratePerson(item, user);
    return item;
  }));
  dom.peopleCount.textContent = String(shownPeople.length);
  if (focused !== undefined) {
    const again = [...dom.people.querySelectorAll("button[data-menu-for]")]
      .find((button) => button.dataset.menuFor === focused);
    if (again) again.focus();
  }
}

/** The room's lock and slow mode, said above the composer; a lock disables it for visitors. */
function drawRoomSettings() {
  const { locked, slowModeSeconds } = roomSettings;
  let text = "";
  if (removedBy) text = codeText(removedBy.code, removedBy.params, removedBy.text, view.codeExtras);
  else if (locked) text = t("moderation.locked");
  else if (slowModeSeconds > 0 && !isHost) text = t("moderation.slowMode", { seconds: slowModeSeconds });
  roomNotice.textContent = text;
  roomNotice.hidden = !text;
  const closed = Boolean(removedBy) || (locked && !isHost);
  dom.text.disabled = closed;
  for (const button of dom.composer.querySelectorAll("button")) button.disabled = closed;
}

function drawTyping() {
  dom.typing.textContent = view.typingText([...typingNames.keys()]);
}

function stopShowingTyping(name) {
  for (const key of typingNames.keys()) {
    if (sameName(key, name)) {
      clearTimeout(typingNames.get(key));
      typingNames.delete(key);
    }
  }
  drawTyping();
}

function clearTyping() {
  for (const timer of typingNames.values()) clearTimeout(timer);
  typingNames.clear();
  drawTyping();
}

// ------------------------------------------------------------ days and times

let daysScheduled = false;
let today = new Date().toDateString();

/** Day separators once per batch (a join's history arrives in one go), not per message. */
function scheduleDays() {
  if (daysScheduled) return;
  daysScheduled = true;
  queueMicrotask(() => {
    daysScheduled = false;
    view.placeDays(dom.messages);
  });
}

/** "Today" becomes "Yesterday" at midnight, while the page stays open. */
function watchMidnight() {
  const now = new Date().toDateString();
  if (now !== today) {
    today = now;
    view.refreshTimes(dom.messages);
  }
}

/** A long press on a time (no hover on a phone) shows its full date. */
function onTimePress(event) {
  const time = event.target.closest("time.time");
  if (!time || event.pointerType === "mouse") return;
  const timer = setTimeout(() => view.showFullTime(time), LONG_PRESS_MS);
  const cancel = () => clearTimeout(timer);
  for (const type of ["pointerup", "pointercancel", "pointerleave"]) {
    time.addEventListener(type, cancel, { once: true });
  }
}

// ------------------------------------------------------------ unread count in the title

const pageTitle = document.title;
let unread = 0;
let countingUnread = false;

/** While the tab is hidden, count the others' new messages in its title. */
function countUnread() {
  if (!document.hidden || !countingUnread || loadingEarlier) return;
  unread += 1;
  drawTitle();
}

function drawTitle() {
  document.title = unread ? t("chat.unread", { count: unread, title: pageTitle }) : pageTitle;
}

function onVisibilityChange() {
  if (document.hidden) return;
  unread = 0;
  drawTitle();
}

/** Another tab of this browser sent a message: it is this reader's own here too. */
function onStorage(event) {
  if (event.key !== OWN_KEY || !connection) return;
  for (const id of ownIds(connection.room)) {
    const item = dom.messages.querySelector(`li.msg[data-id="${Number(id)}"]`);
    if (item) view.makeOwn(item);
  }
}

// ------------------------------------------------------------ scrolling

function isNearBottom() {
  const { scrollTop, scrollHeight, clientHeight } = dom.scroller;
  return scrollHeight - scrollTop - clientHeight < STICKY_PX;
}

function scrollToBottom() {
  dom.scroller.scrollTop = dom.scroller.scrollHeight;
  dom.jump.hidden = true;
}

/** Follow new messages, unless the reader has scrolled up to read. */
function afterAppend(stick) {
  if (loadingEarlier) return;
  if (stick) scrollToBottom();
  else dom.jump.hidden = false;
}

let loadingEarlier = false;

function updateLoadEarlier() {
  dom.loadEarlier.hidden = !(connection && connection.hasEarlier);
}

/** Reaching the top of the log loads what came before (the button stays for keyboards). */
function watchTop() {
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && !dom.loadEarlier.hidden) onLoadEarlier();
  }, { root: dom.scroller, rootMargin: `${TOP_PX}px 0px 0px 0px` });
  observer.observe(dom.loadEarlier);
}

async function onLoadEarlier() {
  if (!connection || loadingEarlier) return;
  loadingEarlier = true;
  // Not disabled while loading: a disabled button would drop the keyboard's focus.
  dom.loadEarlier.textContent = t("chat.loading");
  const before = dom.scroller.scrollHeight;
  let loaded = 0;
  try {
    loaded = await connection.loadEarlier();
  } catch {
    // Offline: the button stays, to try again.
  } finally {
    // Keep the reader's place: what was on screen stays on screen.
    dom.scroller.scrollTop += dom.scroller.scrollHeight - before;
    loadingEarlier = false;
    dom.loadEarlier.textContent = t("chat.loadEarlier");
    const focused = document.activeElement === dom.loadEarlier;
    updateLoadEarlier();
    if (focused && dom.loadEarlier.hidden) dom.scroller.focus(); // the start: keep the focus in the log
  }
  // Still at the top (a short page): the observer will not report it again, so go on.
  if (loaded && !dom.loadEarlier.hidden && dom.scroller.scrollTop < TOP_PX) onLoadEarlier();
}

/** The Enter / Shift+Enter hint where there are keys to press and room to read it
 *  whole; a short placeholder on a phone (no Shift+Enter to speak of) and in a
 *  narrow panel (/intro, /embed), where the hint would be cut. */
function fitPlaceholder() {
  const style = getComputedStyle(dom.text);
  const room = dom.text.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const measure = (fitPlaceholder.canvas ||= document.createElement("canvas")).getContext("2d");
  measure.font = style.font;
  const fits = measure.measureText(t("chat.placeholder")).width <= room;
  const key = keyboard.matches && fits ? "chat.placeholder" : "chat.placeholderShort";
  dom.text.dataset.i18nPlaceholder = key;
  dom.text.placeholder = t(key);
}

const keyboard = matchMedia("(hover: hover) and (pointer: fine)");

// ------------------------------------------------------------ typing and sending

function onComposerKeydown(event) {
  if (event.key !== "Enter" || event.shiftKey) return;
  // An Enter that ends an IME composition (Korean, Japanese, ...) only commits
  // the syllable; it must not send half a word. Safari reports it as keyCode 229.
  if (event.isComposing || event.keyCode === 229) return;
  event.preventDefault();
  sendTyped();
}

function sendTyped() {
  const text = dom.text.value.trim();
  if (!text || !connection) return;
  connection.send(text);
  dom.text.value = "";
  dom.text.dispatchEvent(new Event("counted"));
  fitComposer();
  setTyping(false);
}

function onComposerInput() {
  fitComposer();
  if (!dom.text.value.trim()) {
    setTyping(false);
    return;
  }
  if (!typingSent || Date.now() - typingSentAt > TYPING_REFRESH_MS) setTyping(true);
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => setTyping(false), TYPING_IDLE_MS);
}

function setTyping(typing) {
  if (!connection || (!typing && !typingSent)) return;
  typingSent = typing;
  typingSentAt = Date.now();
  if (!typing) clearTimeout(typingTimer);
  connection.typing(typing);
}

function fitComposer() {
  // CSSOM writes are allowed under the CSP; only style attributes in markup are not.
  dom.text.style.height = "auto";
  dom.text.style.height = `${Math.min(dom.text.scrollHeight, 160)}px`;
}

/** The owner's "Delete" on a message. */
function onMessagesClick(event) {
  const button = event.target.closest("button[data-action=\"delete\"]");
  const item = button && button.closest("li.msg[data-id]");
  if (item && connection && isHost) {
    connection.deleteMessage(Number(item.dataset.id), hostControls.deleteRefused);
  }
}

function onOutboxClick(event) {
  const button = event.target.closest("button[data-action]");
  const item = button && button.closest("li[data-client-id]");
  if (!item || !connection) return;
  if (button.dataset.action === "retry") connection.retry(item.dataset.clientId);
  else connection.discard(item.dataset.clientId);
}

async function onLeave() {
  if (!connection) return;
  await connection.leave();
  forget(ROOM_KEY);
  if (settings.page === "chat") {
    location.href = `/rtcjoin?${new URLSearchParams({ room: settings.room })}`;
    return;
  }
  resetPanel();
  showJoinForm(null);
}

// ------------------------------------------------------------ storage

function remember(key, value, storage = localStorage) {
  try {
    storage.setItem(key, value);
  } catch {
    // Storage disabled: nothing is remembered, everything still works.
  }
}

function forget(key) {
  try {
    localStorage.removeItem(key);
  } catch {
    // Storage disabled: nothing was remembered.
  }
}

function remembered(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

// ------------------------------------------------------------ start

dom.joinForm.addEventListener("submit", onJoinSubmit);
dom.joinForm.querySelector("button[type=submit]").disabled = false;
dom.composer.addEventListener("submit", (event) => {
  event.preventDefault();
  sendTyped();
});
dom.text.addEventListener("keydown", onComposerKeydown);
dom.text.addEventListener("input", onComposerInput);
dom.text.addEventListener("blur", () => setTyping(false));
dom.outbox.addEventListener("click", onOutboxClick);
dom.messages.addEventListener("click", onMessagesClick);
dom.loadEarlier.addEventListener("click", onLoadEarlier);
dom.jump.addEventListener("click", scrollToBottom);
dom.scroller.addEventListener("scroll", () => {
  if (isNearBottom()) dom.jump.hidden = true;
});
dom.leave.addEventListener("click", onLeave);
dom.retryNow.addEventListener("click", () => connection && connection.retryNow());
onLanguageChange(() => {
  drawRoomSettings();
  drawPeople(shownPeople);
  hostControls.refreshLanguage();
  fitPlaceholder();
  if (connection) handlers.state(connection.state, { nextTry: connection.nextTry });
  view.refreshCoded(dom.body);
  view.refreshCoded(dom.joinForm);
  view.refreshTimes(dom.body);
  drawTyping();
});
dom.messages.addEventListener("pointerdown", onTimePress);
document.addEventListener("visibilitychange", onVisibilityChange);
window.addEventListener("storage", onStorage);
keyboard.addEventListener("change", fitPlaceholder);
new ResizeObserver(fitPlaceholder).observe(dom.text); // also when the panel first shows
fitPlaceholder();
watchTop();
attachCounter(dom.text, settings.maxText);
attachCounter(dom.joinName, settings.maxName);
attachCounter(dom.joinRoom, settings.maxRoom);
// The browser's own long-press menu would hide the date a long press shows.
dom.messages.addEventListener("contextmenu", (event) => {
  if (event.target.closest("time.time")) event.preventDefault();
});
setInterval(watchMidnight, 60_000);

const rejoinRoom = remembered(ROOM_KEY);
if (settings.page === "chat") {
  start(settings.name, settings.room);
} else if (remembered(NICKNAME_KEY) && rejoinRoom && (settings.room || rejoinRoom) === rejoinRoom) {
  start(remembered(NICKNAME_KEY), rejoinRoom); // a reload, not a new visit: no join form again
} else {
  showJoinForm(null);
}
