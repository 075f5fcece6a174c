// Everything that talks to the server: the REST calls, and the chat connection
// (connect, join again on every `connect` with `since`, merge by `seq`, outbox).
// Nothing here touches the DOM; the page wires these to view.js.
/* global io */

const TOKEN_KEY = "comongus.token";
const ACK_TIMEOUT_MS = 10000;
const REJOIN_RETRIES = 3; // a refused rejoin may be passing (the database is busy)
const REJOIN_DELAY_MS = 2000;
const PAGE_SIZE = 100;
// Reconnection: 1 s, 2 s, 4 s, then every 5 s, each ±25 % so a restarted server
// is not met by every page at once.
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 5000;

// ---------------------------------------------------------------- identity

/** The opaque token that owns this browser's nicknames (contract: `join.token`). */
export function clientToken() {
  try {
    let token = localStorage.getItem(TOKEN_KEY);
    if (!token) {
      token = randomId();
      localStorage.setItem(TOKEN_KEY, token);
    }
    return token;
  } catch {
    // No storage (sandboxed iframe, privacy mode): one token per page load.
    clientToken.fallback ||= randomId();
    return clientToken.fallback;
  }
}

/** A UUID; crypto.randomUUID only exists on https and localhost, so fall back. */
export function randomId() {
  if (window.crypto && typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// ---------------------------------------------------------------- own messages

// The ids of the messages this browser sent, per room: "your own" is what you sent
// from here, not whatever carries your nickname (an old message over REST, say).
export const OWN_KEY = "comongus.ownMessages";
const OWN_PER_ROOM = 500;
const OWN_ROOMS = 30;

function readOwn() {
  try {
    const value = JSON.parse(localStorage.getItem(OWN_KEY) || "{}");
    return value && typeof value === "object" && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

/** The ids of the messages sent from this browser in `room`. */
export function ownIds(room) {
  const ids = readOwn()[room];
  return new Set(Array.isArray(ids) ? ids : []);
}

/** Remember that this browser sent message `id` in `room` (the newest ids of the newest rooms). */
function rememberOwn(room, id) {
  const all = readOwn();
  const ids = (Array.isArray(all[room]) ? all[room] : []).filter((other) => other !== id);
  ids.push(id);
  delete all[room]; // re-added last: the rooms are kept in the order they were used
  all[room] = ids.slice(-OWN_PER_ROOM);
  const rooms = Object.keys(all);
  for (const old of rooms.slice(0, Math.max(0, rooms.length - OWN_ROOMS))) delete all[old];
  try {
    localStorage.setItem(OWN_KEY, JSON.stringify(all));
  } catch {
    // No storage: known for this page only (the connection keeps its own set).
  }
}

// ---------------------------------------------------------------- REST

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code || null; // contract v1.1: REST errors carry a code
  }
}

async function requestJson(url, options = {}) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" }, ...options });
  } catch {
    throw new ApiError("network", 0);
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    throw new ApiError((body && body.error) || `HTTP ${response.status}`, response.status,
      body && body.code);
  }
  return body;
}

/** A REST row ({username, roomname, ...}) in the shape of the `message` event. */
export function fromRest(row) {
  return {
    id: row.id,
    seq: row.seq,
    user: row.username ?? row.user,
    text: row.text,
    room: row.roomname ?? row.room,
    date: row.date,
    ...(row.deleted ? { deleted: true } : {}),
    ...(row.host ? { host: true } : {}),
  };
}

/** GET /messages with {roomname, after, before, limit}; messages oldest first. */
export async function fetchMessages(query = {}) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(key, value);
  }
  const body = await requestJson(`/messages?${params}`);
  return body.results.map(fromRest);
}

/** POST /messages {username, text, roomname}; the stored message, or an ApiError. */
export async function postMessage(fields) {
  const body = await requestJson("/messages", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(fields),
  });
  return fromRest(body);
}

/** GET /rooms: the names of the rooms that have people in them now. */
export async function fetchRoomNames() {
  const body = await requestJson("/rooms");
  return body.results.map((row) => row.roomname);
}

// ---------------------------------------------------------------- the owner's REST calls

// A cookie request that changes something needs the session's CSRF token, which
// GET /owner/session answers to the signed-in browser (comongus/owner.py).
let csrfToken = null;

async function ownerRequest(method, url, body, retried = false) {
  if (csrfToken === null) csrfToken = (await requestJson("/owner/session")).csrfToken;
  try {
    return await requestJson(url, {
      method,
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrfToken },
      body: JSON.stringify(body),
    });
  } catch (error) {
    // Signed in again in another tab: the token changed. Ask for it once more.
    if (error.code !== "csrf_invalid" || retried) throw error;
    csrfToken = null;
    return ownerRequest(method, url, body, true);
  }
}

/** The owner bans `name` for `minutes`, from `room` (or every room without it). */
export function banName({ name, room, minutes }) {
  return ownerRequest("POST", "/bans", room ? { name, room, minutes } : { name, minutes });
}

/** The owner sets `room`'s `{locked?, slowModeSeconds?}`; answers all its settings. */
export function putRoomSettings(room, changes) {
  return ownerRequest("PUT", `/rooms/${encodeURIComponent(room)}/settings`, changes);
}

// ---------------------------------------------------------------- timeline

/**
 * The room's messages seen so far, by `seq`. `contiguous` is the highest seq up to
 * which nothing is missing; it is the `since` of the next join, and anything
 * seen above it means a gap to fill over REST.
 */
class Timeline {
  constructor() {
    this.ids = new Map(); // seq -> id
    this.lowest = null;
    this.contiguous = 0;
    this.highest = 0;
    this.reachedStart = false; // nothing older is stored (e.g. the room's start was pruned)
  }

  get started() {
    return this.lowest !== null;
  }

  /** Start from a join's history (latest messages, oldest first). */
  start(history) {
    this.lowest = history.length ? history[0].seq : 1;
    this.contiguous = this.lowest - 1;
  }

  /** Record `message`; false when its seq was already seen. */
  add(message) {
    if (this.ids.has(message.seq)) return false;
    this.ids.set(message.seq, message.id);
    if (message.seq < this.lowest) this.lowest = message.seq;
    this.highest = Math.max(this.highest, message.seq);
    while (this.ids.has(this.contiguous + 1)) this.contiguous += 1;
    return true;
  }

  /** The same seq with another id: the room's history was replaced (a wiped database). */
  conflicts(message) {
    return this.ids.has(message.seq) && this.ids.get(message.seq) !== message.id;
  }

  get hasGap() {
    return this.highest > this.contiguous;
  }

  get contiguousId() {
    return this.ids.get(this.contiguous) ?? 0;
  }

  get oldestId() {
    return this.ids.get(this.lowest) ?? null;
  }

  get hasEarlier() {
    return this.lowest !== null && this.lowest > 1 && !this.reachedStart;
  }
}

// ---------------------------------------------------------------- chat connection

/** What makes two names one person, as the server counts it: case and width do not. */
export function nameKey(name) {
  return String(name).normalize("NFKC").toLowerCase();
}

/**
 * A failed ack as {error, code, params}: the v1 reason string, and the v1.1 code and
 * params that let the page say it in the reader's language.
 */
export function failure(reason, details) {
  const coded = details && typeof details === "object" ? details : {};
  return { error: String(reason), code: coded.code || null, params: coded.params || null };
}

export function isNotice(message) {
  return message.seq === null || message.seq === undefined;
}

// Other modules of the page (host.js) listen on the chat's own socket rather than
// open another: each socket a ChatConnection opens is handed to them.
const socketListeners = [];
let chatSocket = null;

/**
 * Call `listener(socket)` with every Socket.IO socket the chat opens, the one
 * already open (if any) at once; before it is connected, so `connect` is heard.
 */
export function onChatSocket(listener) {
  socketListeners.push(listener);
  if (chatSocket) listener(chatSocket);
}

/**
 * One person in one room over Socket.IO.
 *
 * `on` receives: state(name, {nextTry}) with "connecting" | "connected" |
 * "polling" | "reconnecting" | "offline", and when disconnected the time of the
 * next try (or null while one is under way); joined({user, users, first});
 * joinFailed({error, code, params}, {first}); message(msg, {own}) once per seq
 * (and every admin notice but repeated welcomes), `own` when this browser sent it;
 * roomData(users);
 * typing({user, typing}); messageDeleted({id, room}); roomSettings({locked,
 * slowModeSeconds}); removed(notice) when the host banned this name (the
 * connection is closed for good); outbox(item) whenever an outbox item changes state
 * ("sending", "sent", "failed", "discarded"); reset() when the server's history
 * no longer matches what the page shows (start over).
 */
export class ChatConnection {
  constructor({ name, room, on, transports, replayLimit }) {
    this.name = name;
    this.room = room;
    this.on = on;
    this.timeline = new Timeline();
    this.joined = false;
    this.everJoined = false;
    this.stopped = false;
    this.outbox = [];
    this.inFlight = null; // the outbox item whose ack is awaited
    this.flushing = false;
    this.filling = false;
    this.held = null; // events that arrive while a join awaits its ack
    this.rejoinFailures = 0;
    this.welcomed = false;
    this.own = ownIds(room);
    this.replayLimit = replayLimit || 500;
    // forceNew: a panel that joins again after a failed join gets a fresh socket,
    // not the cached one with the old handlers still on it.
    this.retries = 0;
    this.retryTimer = null;
    this.nextTry = null; // when the next reconnection attempt starts (ms since epoch)
    // Socket.IO's own reconnection is off: this class schedules the tries itself,
    // so the page can say when the next one is and offer "retry now".
    this.socket = io({
      transports: transports || ["polling", "websocket"], autoConnect: false, forceNew: true,
      reconnection: false,
    });
    this.wire();
    chatSocket = this.socket;
    for (const listener of socketListeners) listener(this.socket);
  }

  start() {
    this.reportState();
    this.socket.connect();
  }

  wire() {
    const socket = this.socket;
    socket.on("connect", () => {
      this.retries = 0;
      this.reportState();
      socket.io.engine.once("upgrade", () => this.reportState());
      this.join();
    });
    socket.on("disconnect", (reason) => {
      this.joined = false;
      this.held = null;
      // Ours (a leave, or a fresh start after a lost ack) is not retried here.
      if (reason !== "io client disconnect") this.scheduleRetry();
      this.reportState();
    });
    socket.on("connect_error", () => {
      this.scheduleRetry();
      this.reportState();
    });
    socket.on("message", (message) => this.deliver(() => this.receive(message)));
    socket.on("roomData", (data) => this.deliver(() => this.on.roomData((data && data.users) || [])));
    socket.on("typing", (data) => this.deliver(() => this.on.typing(data)));
    // Moderation: a message the owner deleted, the room's lock and slow mode.
    socket.on("messageDeleted", (data) => this.deliver(() => {
      if (data && data.room === this.room && this.on.messageDeleted) this.on.messageDeleted(data);
    }));
    socket.on("roomSettings", (data) => this.deliver(() => {
      if (data && data.room === this.room && this.on.roomSettings) this.on.roomSettings(data);
    }));
  }

  get state() {
    if (this.stopped) return "offline";
    if (!this.socket.connected) return this.everConnected ? "reconnecting" : "connecting";
    const transport = this.socket.io.engine && this.socket.io.engine.transport;
    return transport && transport.name === "polling" ? "polling" : "connected";
  }

  reportState() {
    if (this.socket.connected) this.everConnected = true;
    this.on.state(this.state, { nextTry: this.nextTry });
  }

  /** Try to connect again after the next back-off delay. */
  scheduleRetry() {
    if (this.stopped || this.retryTimer) return;
    const base = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.retries);
    const delay = Math.round(Math.min(RETRY_MAX_MS, base * (0.75 + Math.random() / 2)));
    this.retries += 1;
    this.nextTry = Date.now() + delay;
    this.retryTimer = setTimeout(() => this.retryNow(), delay);
  }

  /** Try to connect now, without waiting for the scheduled try. */
  retryNow() {
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.nextTry = null;
    if (this.stopped || this.socket.connected) return;
    this.socket.connect();
    this.reportState();
  }

  /** Hold events that arrive before the join's ack, so history is drawn first. */
  deliver(action) {
    if (this.held) this.held.push(action);
    else action();
  }

  join() {
    const payload = { name: this.name, room: this.room, token: clientToken() };
    if (this.timeline.started) payload.since = this.timeline.contiguous;
    const first = !this.everJoined;
    const held = [];
    this.held = held;
    this.socket.timeout(ACK_TIMEOUT_MS).emit("join", payload, (timeout, error, result) => {
      if (this.held !== held) return; // disconnected meanwhile; the next connect joins again
      this.held = null;
      if (timeout) {
        // No answer: start over with a fresh connection rather than guess.
        this.socket.disconnect().connect();
        return;
      }
      if (error && !first && this.rejoinFailures < REJOIN_RETRIES) {
        this.rejoinFailures += 1;
        setTimeout(() => {
          if (this.socket.connected && !this.joined && !this.stopped) this.join();
        }, REJOIN_DELAY_MS);
        return;
      }
      if (error) {
        this.stopped = true;
        this.socket.disconnect();
        this.reportState();
        this.on.joinFailed(failure(error, result), { first });
        return;
      }
      this.joined = true;
      this.everJoined = true;
      this.rejoinFailures = 0;
      const history = (result && result.history) || [];
      if (!this.timeline.started) this.timeline.start(history);
      for (const message of history) this.receive(message);
      const user = result && result.user;
      this.user = typeof user === "string" ? user : (user && user.name) || this.name;
      this.on.joined({
        user: this.user,
        users: (result && result.users) || [],
        first,
      });
      if (result && result.settings && this.on.roomSettings) this.on.roomSettings(result.settings);
      for (const action of held) action();
      // A `since` replay is capped (in count and bytes): when the server says it
      // left messages out (`more`), or it came back full, fetch the rest over REST.
      const more = Boolean(result && result.more) || history.length >= this.replayLimit;
      this.fillGap(payload.since !== undefined && more);
      this.flush();
    });
  }

  receive(message) {
    if (isNotice(message)) {
      // The server welcomes every join, reconnections included: show it once a visit.
      if (message.code === "welcome" && this.welcomed) return;
      if (message.code === "welcome") this.welcomed = true;
      this.on.message(message);
      // Only the banned connection hears its `banned`: it is out of the room, and
      // joining again would be refused, so it stays out rather than retry.
      if (message.code === "banned") this.removed(message);
      return;
    }
    if (this.timeline.conflicts(message)) {
      this.stopped = true;
      this.socket.disconnect();
      this.on.reset();
      return;
    }
    if (this.timeline.add(message)) {
      const echo = this.isEcho(message);
      // Shown as our own now, so remembered now: a reload before the ack keeps it.
      if (echo) this.markOwn(message.id);
      this.on.message(message, { own: this.own.has(message.id) });
      if (echo) {
        this.inFlight.echoSeq = message.seq;
        this.on.outbox(this.inFlight);
      }
    }
    if (this.timeline.hasGap) this.fillGap();
  }

  /** This browser sent message `id`: its own on this page and, via storage, in its other tabs. */
  markOwn(id) {
    this.own.add(id);
    rememberOwn(this.room, id);
  }

  /**
   * Is `message` the one in flight, come back as a broadcast before its ack (the
   * usual order)? Then the page is told its seq, to show it once, not twice.
   */
  isEcho(message) {
    const item = this.inFlight;
    if (!item || item.echoSeq !== undefined || message.text !== item.text) return false;
    return nameKey(message.user) === nameKey(this.user);
  }

  /**
   * Fetch over REST whatever lies between the contiguous seq and the newest seen
   * (or, with `toEnd`, everything after the contiguous seq).
   */
  async fillGap(toEnd = false) {
    if (this.filling || !(toEnd || this.timeline.hasGap)) return;
    this.filling = true;
    try {
      while (toEnd || this.timeline.hasGap) {
        const page = await fetchMessages({
          roomname: this.room, after: this.timeline.contiguousId, limit: PAGE_SIZE,
        });
        for (const message of page) this.receive(message);
        if (page.length < PAGE_SIZE) break;
      }
    } catch {
      // Offline: the next join's `since` asks for the same messages again.
    } finally {
      this.filling = false;
    }
  }

  /** "Load earlier": the page of messages before the oldest one seen. */
  async loadEarlier(limit = 50) {
    const oldestId = this.timeline.oldestId;
    if (oldestId === null) return 0;
    const page = await fetchMessages({ roomname: this.room, before: oldestId, limit });
    for (const message of page.reverse()) {
      if (this.timeline.add(message)) this.on.message(message, { own: this.own.has(message.id) });
    }
    if (page.length < limit) this.timeline.reachedStart = true;
    return page.length;
  }

  get hasEarlier() {
    return this.timeline.hasEarlier;
  }

  // ------------------------------------------------------------ outbox

  /** Queue `text`; it goes out now if joined, else as soon as the next join succeeds. */
  send(text) {
    const item = { clientId: randomId(), text, state: "sending", attempt: 0, error: null };
    this.outbox.push(item);
    this.on.outbox(item);
    this.flush();
    return item;
  }

  retry(clientId) {
    const item = this.outbox.find((entry) => entry.clientId === clientId);
    if (!item || item.state !== "failed") return;
    Object.assign(item, { state: "sending", error: null, code: null, params: null });
    this.on.outbox(item);
    this.flush();
  }

  discard(clientId) {
    const index = this.outbox.findIndex((entry) => entry.clientId === clientId);
    if (index < 0 || this.outbox[index].state !== "failed") return;
    const [item] = this.outbox.splice(index, 1);
    item.state = "discarded";
    this.on.outbox(item);
  }

  /** Send the waiting items one at a time, in order; stop when the link drops. */
  async flush() {
    if (this.flushing) return;
    this.flushing = true;
    try {
      let item;
      while (this.joined && (item = this.outbox.find((entry) => entry.state === "sending"))) {
        const delivered = await this.sendOne(item);
        if (!delivered && item.state === "sending") break; // offline: wait for the next join
      }
    } finally {
      this.flushing = false;
    }
  }

  sendOne(item) {
    item.attempt += 1;
    this.inFlight = item;
    return new Promise((resolve) => {
      this.socket.timeout(ACK_TIMEOUT_MS).emit(
        "sendMessage", { text: item.text, clientId: item.clientId },
        (timeout, error, message) => {
          this.inFlight = null;
          if (timeout) {
            // Lost with the connection: keep it; the same clientId is resent after
            // the next join and the server stores it once.
            if (!this.socket.connected || !this.joined) {
              resolve(false);
              return;
            }
            Object.assign(item, { state: "failed", error: null, code: null, params: null });
          } else if (error) {
            Object.assign(item, failure(error, message), { state: "failed" });
          } else {
            item.state = "sent";
            this.outbox.splice(this.outbox.indexOf(item), 1);
            this.markOwn(message.id);
            this.receive(message);
            item.message = message;
          }
          this.on.outbox(item);
          resolve(item.state === "sent");
        },
      );
    });
  }

  // ------------------------------------------------------------ typing, leaving

  typing(isTyping) {
    if (this.joined) this.socket.emit("typing", Boolean(isTyping));
  }

  /** The owner deletes message `id`; the room (this page too) gets messageDeleted.
   * `onRefused({message, code, params})` hears a refusal, `onRefused(null)` no answer. */
  deleteMessage(id, onRefused) {
    this.socket.timeout(ACK_TIMEOUT_MS).emit("deleteMessage", { id }, (timedOut, reason, details) => {
      if (timedOut) onRefused(null);
      else if (reason) onRefused({ message: reason, code: details && details.code,
        params: details && details.params });
    });
  }

  /** The host banned this name: close the connection for good and say why. */
  removed(notice) {
    this.stopped = true;
    this.joined = false;
    clearTimeout(this.retryTimer);
    this.socket.disconnect();
    this.reportState();
    if (this.on.removed) this.on.removed(notice);
  }

  /** Leave the room for good: ack, then close the connection. */
  leave() {
    return new Promise((resolve) => {
      const done = () => {
        this.stopped = true;
        clearTimeout(this.retryTimer);
        this.socket.disconnect();
        this.reportState();
        resolve();
      };
      if (!this.joined) {
        done();
        return;
      }
      this.socket.timeout(ACK_TIMEOUT_MS).emit("leave", done);
    });
  }
}
