// Wires the home page: the chatterbox board (GET /messages, polled for new
// messages), its room filter, and the form that posts to POST /messages.
import { fetchMessages, fetchRoomNames, postMessage } from "./client.js";
import { onLanguageChange, t } from "./i18n.js";
import { fieldOfError, readSettings, validateField } from "./forms.js";
import * as view from "./view.js";

// The board shows every room, and a socket only hears the room it joined, so
// new messages come by polling `after` the newest id; cheap, and it pauses
// while the tab is hidden. Every WINDOW_EVERY-th poll reads the whole shown
// window again instead (from the oldest entry shown on), which brings the new
// messages too and turns the ones the owner deleted into tombstones.
const POLL_MS = 3000;
const WINDOW_EVERY = 2;
const BOARD_SIZE = 50;
const BOARD_MAX = 200;
const WINDOW_LIMIT = BOARD_MAX + 100; // one fixed size, so viewers share the server's cached page
const NICKNAME_KEY = "comongus.nickname";

const settings = readSettings();
const $ = (id) => document.getElementById(id);
const dom = {
  board: $("board"),
  glow: $("glow-link"),
  empty: $("board-empty"),
  boardError: $("board-error"),
  filterForm: $("filter-form"),
  filterRoom: $("filter-room"),
  filterClear: $("filter-clear"),
  filterStatus: $("filter-status"),
  roomList: $("room-list"),
  postForm: $("post-form"),
  postName: $("post-name"),
  postRoom: $("post-room"),
  postText: $("post-text"),
  postStatus: $("post-status"),
  errors: { username: $("post-name-error"), roomname: $("post-room-error"), text: $("post-text-error") },
};

let filter = new URLSearchParams(location.search).get("room")?.trim() || "";
let lastId = 0;
let loaded = false;
let generation = 0;
let pollTimer = null;
let polls = 0;
const shown = new Set();
const knownRooms = new Set();

// ------------------------------------------------------------ the board

async function loadBoard() {
  const mine = ++generation;
  loaded = false;
  lastId = 0;
  shown.clear();
  dom.board.replaceChildren();
  drawFilterStatus();
  try {
    const messages = await fetchMessages({ roomname: filter, limit: BOARD_SIZE });
    if (mine !== generation) return;
    loaded = true;
    dom.boardError.hidden = true;
    addEntries(messages);
  } catch {
    if (mine === generation) dom.boardError.hidden = false;
  }
  schedulePoll();
}

async function poll() {
  if (!loaded) {
    await loadBoard();
    return;
  }
  const mine = generation;
  polls += 1;
  const oldest = dom.board.lastElementChild;
  const rereading = polls % WINDOW_EVERY === 0 && oldest !== null;
  const query = rereading
    ? { roomname: filter, after: Number(oldest.dataset.id) - 1, limit: WINDOW_LIMIT }
    : { roomname: filter, after: lastId, limit: 100 };
  try {
    const messages = await fetchMessages(query);
    if (mine !== generation) return;
    dom.boardError.hidden = true;
    if (rereading) showDeletions(messages);
    addEntries(messages);
  } catch {
    dom.boardError.hidden = false;
  }
  schedulePoll();
}

function schedulePoll() {
  clearTimeout(pollTimer);
  if (!document.hidden) pollTimer = setTimeout(poll, POLL_MS);
}

/** Newest on top; `messages` come oldest first (the server applied the filter). */
function addEntries(messages) {
  for (const message of messages) {
    lastId = Math.max(lastId, message.id);
    if (shown.has(message.id)) continue;
    shown.add(message.id);
    dom.board.prepend(view.renderBoardEntry(message));
    addRoom(message.room);
  }
  while (dom.board.children.length > BOARD_MAX) dom.board.lastElementChild.remove();
  dom.empty.hidden = dom.board.children.length > 0;
}

/** Entries the owner deleted since they were drawn become tombstones, in place. */
function showDeletions(messages) {
  for (const message of messages) {
    if (!message.deleted) continue;
    const entry = dom.board.querySelector(`li.board-entry[data-id="${Number(message.id)}"]`);
    if (entry && !entry.classList.contains("board-deleted")) {
      entry.replaceWith(view.renderBoardEntry(message));
    }
  }
}

// ------------------------------------------------------------ the room filter

function setFilter(room) {
  filter = room.trim();
  dom.filterRoom.value = filter;
  const url = new URL(location.href);
  if (filter) url.searchParams.set("room", filter);
  else url.searchParams.delete("room");
  history.replaceState(null, "", url);
  if (filter) dom.postRoom.value = filter;
  pointGlowAt(filter);
  loadBoard();
}

/** The glowing link leads into the room being looked at, if any. */
function pointGlowAt(room) {
  dom.glow.href = room ? `/rtcjoin?${new URLSearchParams({ room })}` : "/rtcjoin";
}

function drawFilterStatus() {
  dom.filterStatus.textContent = filter ? t("home.showing", { room: filter }) : t("home.showingAll");
  dom.filterClear.hidden = !filter;
}

function addRoom(room) {
  if (knownRooms.has(room)) return;
  knownRooms.add(room);
  const option = document.createElement("option");
  option.value = room;
  dom.roomList.append(option);
}

async function loadRoomNames() {
  try {
    for (const room of await fetchRoomNames()) addRoom(room);
  } catch {
    // The suggestions are a nicety; the board works without them.
  }
}

// ------------------------------------------------------------ posting

async function onPost(event) {
  event.preventDefault();
  const checks = {
    username: validateField(dom.postName, settings.maxName),
    roomname: validateField(dom.postRoom, settings.maxRoom),
    text: validateField(dom.postText, settings.maxText),
  };
  for (const [field, error] of Object.entries(checks)) view.showFieldError(dom.errors[field], error);
  dom.postStatus.textContent = "";
  const firstBad = Object.keys(checks).find((field) => checks[field]);
  if (firstBad) {
    ({ username: dom.postName, roomname: dom.postRoom, text: dom.postText })[firstBad].focus();
    return;
  }
  const fields = {
    username: dom.postName.value.trim(),
    roomname: dom.postRoom.value.trim(),
    text: dom.postText.value.trim(),
  };
  const button = dom.postForm.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const message = await postMessage(fields);
    dom.postText.value = "";
    dom.postStatus.textContent = t("home.posted");
    try {
      localStorage.setItem(NICKNAME_KEY, fields.username);
    } catch {
      // not remembered; fine
    }
    if (loaded && (!filter || filter === message.room)) {
      addEntries([message]);
    }
  } catch (error) {
    const field = fieldOfError(error.message, ["username", "roomname", "text"], "text");
    view.showFieldError(dom.errors[field], error.status ? error.message : t("home.postFailed"));
  } finally {
    button.disabled = false;
  }
}

function onPostKeydown(event) {
  if (event.key !== "Enter" || event.shiftKey) return;
  if (event.isComposing || event.keyCode === 229) return; // Enter that ends an IME composition
  event.preventDefault();
  dom.postForm.requestSubmit();
}

// ------------------------------------------------------------ start

dom.filterForm.addEventListener("submit", (event) => {
  event.preventDefault();
  setFilter(dom.filterRoom.value);
});
dom.filterClear.addEventListener("click", () => setFilter(""));
dom.board.addEventListener("click", (event) => {
  const link = event.target.closest("a.board-room");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  setFilter(link.dataset.room);
});
dom.postForm.addEventListener("submit", onPost);
dom.postText.addEventListener("keydown", onPostKeydown);
document.addEventListener("visibilitychange", () => {
  if (document.hidden) clearTimeout(pollTimer);
  else poll();
});
onLanguageChange(drawFilterStatus);

try {
  dom.postName.value ||= localStorage.getItem(NICKNAME_KEY) || "";
} catch {
  // no storage
}
dom.filterRoom.value = filter;
if (filter) dom.postRoom.value = filter;
pointGlowAt(filter);
loadRoomNames();
loadBoard();
