// "Moderation log" on /owner: the owner's latest actions (GET /moderation-log),
// newest first, each as a sentence in the reader's language and when it was done.
// A room's settings are logged whole, so what changed (locked, unlocked, slow mode
// on or off) is read against that room's entry before it; when that one is past
// the page shown, the entry says the settings as they were set. Names and rooms
// are visitors' words: textContent only.
import { t } from "./i18n.js";
import { OwnerRequestFailed, dateAndTime, ownerRequest, when } from "./owner-common.js";

const LIMIT = 50; // entries shown: the latest, enough to see what happened today
const ROOM_DEFAULTS = { locked: false, slowModeSeconds: 0 };

const list = document.getElementById("log");
const status = document.getElementById("log-status");

let entries = null; // the last answer, re-drawn when the language changes
let drawn = ""; // the answer now on the page, so an unchanged one is not drawn again
let failed = false; // the last request failed: the status line says so

function banSentence(verb, subject) {
  const target = typeof subject.name === "string" ? "name" : "address";
  const where = typeof subject.room === "string" ? "room" : "all";
  return t(`owner.log.${verb}.${target}.${where}`, {
    name: subject.name, address: subject.address, room: subject.room,
    until: dateAndTime(subject.expires),
  });
}

function settingsSentence(subject, before) {
  const room = subject.room;
  const locked = subject.locked === true;
  const seconds = Number(subject.slowModeSeconds) || 0;
  if (before === undefined) {
    return t("owner.log.settings", {
      room,
      locked: t(locked ? "owner.log.settingsLocked" : "owner.log.settingsOpen"),
      slowMode: seconds ? t("owner.log.settingsSlow", { seconds })
        : t("owner.log.settingsNoSlow"),
    });
  }
  const changes = [];
  if (locked !== before.locked) {
    changes.push(t(locked ? "owner.log.locked" : "owner.log.unlocked", { room }));
  }
  if (seconds !== before.slowModeSeconds) {
    changes.push(seconds ? t("owner.log.slowMode", { room, seconds })
      : t("owner.log.slowModeOff", { room }));
  }
  return changes.length ? changes.join(" ") : t("owner.log.settingsSame", { room });
}

/** Each entry's sentence, newest first: `complete` when the whole log is here, so a
 * room's first settings are read against the defaults. */
function sentences(results, complete) {
  const known = new Map(); // room -> its settings before the entry being read
  const said = new Map();
  for (const entry of [...results].reverse()) {
    const subject = entry.subject && typeof entry.subject === "object" ? entry.subject : {};
    if (entry.action === "delete") {
      said.set(entry, t("owner.log.delete", { id: subject.id, room: subject.room }));
    } else if (entry.action === "ban" || entry.action === "lift_ban") {
      said.set(entry, banSentence(entry.action === "ban" ? "ban" : "lift", subject));
    } else if (entry.action === "room_settings") {
      const before = known.get(subject.room) ?? (complete ? ROOM_DEFAULTS : undefined);
      said.set(entry, settingsSentence(subject, before));
      known.set(subject.room, {
        locked: subject.locked === true, slowModeSeconds: Number(subject.slowModeSeconds) || 0,
      });
    } else {
      said.set(entry, t("owner.log.other", { action: entry.action }));
    }
  }
  return results.map((entry) => said.get(entry));
}

function row(entry, sentence) {
  const item = document.createElement("li");
  item.className = "owner-log-entry";
  const text = document.createElement("p");
  text.className = "owner-log-text";
  text.textContent = sentence;
  const time = document.createElement("time");
  time.className = "owner-log-time";
  time.dateTime = entry.date;
  time.textContent = when(entry.date);
  item.append(text, time);
  return item;
}

/** The status line: not loaded, nothing logged yet, or only the latest shown. */
function drawStatus() {
  if (!failed && entries === null) return; // "Loading…", from the template
  delete status.dataset.i18n; // from here on this module says what it says
  status.textContent = failed ? t("owner.logFailed")
    : entries.length === 0 ? t("owner.logEmpty")
      : entries.length === LIMIT ? t("owner.logLatest", { count: LIMIT }) : "";
  status.hidden = status.textContent === "";
}

export function drawLog() {
  drawStatus();
  if (entries === null) return;
  const said = sentences(entries, entries.length < LIMIT);
  list.replaceChildren(...entries.map((entry, index) => row(entry, said[index])));
}

export async function refreshLog() {
  try {
    const results = (await ownerRequest(`/moderation-log?limit=${LIMIT}`)).results;
    failed = false;
    const answer = JSON.stringify(results);
    if (answer === drawn) {
      drawStatus();
      return;
    }
    drawn = answer;
    entries = results;
    drawLog();
  } catch (failure) {
    if (!(failure instanceof OwnerRequestFailed)) throw failure;
    failed = true;
    drawStatus();
  }
}
