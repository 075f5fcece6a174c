/* global io */
// The host's presence in the chat's header on /intro and /embed: "The host is here",
// or "The host is away: leave a note and they will see it". Loaded only when the
// chat has an owner. It asks GET /host at once and on every connect (a change may
// have passed while a socket was down), and hears the `host` event, which the
// server sends to every connected socket, joined or not: on the chat's own socket,
// which client.js hands over (onChatSocket), or, while a visitor has not joined yet
// (no chat socket), on one of its own, closed as soon as the chat opens its socket,
// so a page holds one at a time.
import { onChatSocket } from "./client.js";
import { t } from "./i18n.js";

const status = document.getElementById("host-status");
let shownSince = "";

function show(state) {
  if (!state || typeof state.online !== "boolean" || typeof state.since !== "string") return;
  if (state.since < shownSince) return; // an older answer that arrived late
  shownSince = state.since;
  const key = state.online ? "host.online" : "host.away";
  status.dataset.i18n = key; // i18n.js retranslates it when the language changes
  status.dataset.online = String(state.online);
  status.textContent = t(key);
  status.hidden = false;
}

async function refresh() {
  try {
    const answer = await fetch("/host", { headers: { Accept: "application/json" } });
    if (answer.ok) show(await answer.json());
  } catch {
    // Offline: the socket's next connect asks again.
  }
}

function listen(socket) {
  socket.on("host", show);
  socket.on("connect", refresh);
}

if (status && typeof window.io === "function") {
  let chatSocket = null;
  let ownSocket = null;
  onChatSocket((socket) => {
    if (ownSocket) ownSocket.disconnect();
    ownSocket = null;
    chatSocket = socket;
    listen(socket);
  });
  // By `load` the chat has opened its socket if it joins at once (a reload).
  window.addEventListener("load", () => {
    if (chatSocket) return;
    ownSocket = io({ transports: ["websocket", "polling"], forceNew: true });
    listen(ownSocket);
  });
  refresh();
}
