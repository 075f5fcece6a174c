// /owner, signed in: the inbox (every room with messages the owner has not read,
// newest first), the bans in force (owner-bans.js) and the moderation log
// (owner-log.js), all asked for every few seconds while the page is open; opening a room
// marks it read and opens its chat as the host. "Notify me" asks, on the click, for
// permission to show a browser notification when a new unread message comes while
// the page is hidden. The page also holds a Socket.IO connection (it joins no room)
// so the owner counts as online, "The host is here" for visitors, while it is open.
// Everything a visitor wrote goes in through textContent.
import { onLanguageChange, plural, t } from "./i18n.js";
import { drawBans, refreshBans } from "./owner-bans.js";
import { csrf, when } from "./owner-common.js";
import { drawLog, refreshLog } from "./owner-log.js";

const POLL_MS = 5000;
const list = document.getElementById("inbox");
const status = document.getElementById("inbox-status");
const notifyButton = document.getElementById("notify-me");
const notifyStatus = document.getElementById("notify-status");
const settings = JSON.parse(document.getElementById("page-settings").textContent);

let rooms = null; // the last answer, re-drawn when the language changes
let newestSeen = null; // the highest message id seen: anything above it is news

if (typeof window.io === "function") window.io({ transports: ["websocket", "polling"] });

function chatLink(room) {
  return "/chat?" + new URLSearchParams({ name: settings.ownerName, room });
}

function row(entry) {
  const item = document.createElement("li");
  item.className = "inbox-entry";
  const link = document.createElement("a");
  link.className = "inbox-room";
  link.href = chatLink(entry.roomname);
  link.addEventListener("click", () => markRead(entry.roomname));
  const name = document.createElement("strong");
  name.textContent = entry.roomname;
  const count = document.createElement("span");
  count.className = "inbox-count";
  count.textContent = plural("owner.unread", entry.unread);
  link.append(name, " ", count);
  const latest = document.createElement("p");
  latest.className = "inbox-latest";
  const who = document.createElement("span");
  who.className = "inbox-user";
  who.textContent = entry.latest.username + ": ";
  const text = document.createElement("span");
  text.textContent = entry.latest.text;
  latest.append(who, text);
  const time = document.createElement("time");
  time.className = "inbox-time";
  time.dateTime = entry.latest.date;
  time.textContent = when(entry.latest.date);
  item.append(link, time, latest);
  return item;
}

function draw() {
  if (rooms === null) return;
  list.replaceChildren(...rooms.map(row));
  status.dataset.i18n = "owner.inboxEmpty";
  status.textContent = t("owner.inboxEmpty");
  status.hidden = rooms.length > 0;
}

function tellNews(results) {
  const newest = Math.max(0, ...results.map((entry) => entry.latest.id));
  if (newestSeen !== null && document.hidden && "Notification" in window
      && Notification.permission === "granted") {
    for (const entry of results) {
      if (entry.latest.id <= newestSeen) continue;
      try {
        new Notification(t("owner.notificationTitle",
          { user: entry.latest.username, room: entry.roomname }),
        { body: entry.latest.text, tag: "comongus-" + entry.roomname });
      } catch {
        // Some browsers (Android's Chrome) show notifications only from a service worker.
      }
    }
  }
  newestSeen = Math.max(newestSeen ?? 0, newest);
}

function refresh() {
  refreshInbox();
  refreshBans();
  refreshLog();
}

async function refreshInbox() {
  try {
    const answer = await fetch("/owner/inbox", { headers: { Accept: "application/json" } });
    if (answer.status === 401) {
      window.location.reload(); // signed out elsewhere: the sign-in form
      return;
    }
    if (!answer.ok) throw new Error(String(answer.status));
    const results = (await answer.json()).results;
    tellNews(results);
    rooms = results;
    draw();
  } catch {
    status.dataset.i18n = "owner.inboxFailed";
    status.textContent = t("owner.inboxFailed");
    status.hidden = false;
  }
}

function markRead(room) {
  // keepalive: the request outlives this page, which the link is leaving.
  fetch(`/owner/inbox/${encodeURIComponent(room)}/read`, {
    method: "POST", keepalive: true, headers: { "X-CSRF-Token": csrf },
  }).catch(() => {});
}

function showNotifyState() {
  if (!("Notification" in window)) return;
  const permission = Notification.permission;
  notifyButton.hidden = permission !== "default";
  const key = permission === "granted" ? "owner.notifyOn"
    : permission === "denied" ? "owner.notifyBlocked" : null;
  notifyStatus.hidden = key === null;
  if (key) {
    notifyStatus.dataset.i18n = key;
    notifyStatus.textContent = t(key);
  }
}

notifyButton.addEventListener("click", async () => {
  try {
    await Notification.requestPermission();
  } finally {
    showNotifyState();
  }
});

onLanguageChange(() => {
  draw();
  drawBans();
  drawLog();
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
});
showNotifyState();
refresh();
setInterval(refresh, POLL_MS);
