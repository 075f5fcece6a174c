// Wires /rtcjoin: checks the fields before going to /chat, shows the reason a join
// failed (kept by chat.js in sessionStorage) next to the field it is about, and
// lists the rooms people are in now (GET /rooms); picking one fills the room.
import { fieldOfError, readSettings, validateField } from "./forms.js";
import { onLanguageChange, t } from "./i18n.js";
import { showFieldError } from "./view.js";

const NICKNAME_KEY = "comongus.nickname";
const JOIN_ERROR_KEY = "comongus.joinError";

const settings = readSettings();
const form = document.getElementById("join-form");
const submit = form.querySelector("button[type=submit]");
const roomList = document.getElementById("active-rooms");
const roomsEmpty = document.getElementById("rooms-empty");
const fields = {
  name: { input: document.getElementById("name"), error: document.getElementById("name-error"), max: settings.maxName },
  room: { input: document.getElementById("room"), error: document.getElementById("room-error"), max: settings.maxRoom },
};
let rooms = [];

function showServerError() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(JOIN_ERROR_KEY) || "null");
    sessionStorage.removeItem(JOIN_ERROR_KEY);
  } catch {
    saved = null;
  }
  if (!saved || !saved.error) return false;
  const field = fields[saved.field] || fields[fieldOfError(saved.error, ["room", "name"], "name")];
  showFieldError(field.error, saved.error);
  field.input.focus();
  field.input.select();
  return true;
}

/** The first field still to fill, else Join: Enter is all a returning visitor needs. */
function focusNextStep() {
  const empty = [fields.room, fields.name].find((field) => !field.input.value.trim());
  (empty ? empty.input : submit).focus();
}

function drawRooms() {
  roomList.replaceChildren(...rooms.map(({ roomname, users }) => {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "room-pick";
    button.dataset.room = roomname;
    const name = document.createElement("span");
    name.className = "room-pick-name";
    name.textContent = `#${roomname}`;
    const count = document.createElement("span");
    count.className = "room-pick-count";
    count.textContent = t("join.roomPeople", { count: users.length });
    button.append(name, " ", count);
    const item = document.createElement("li");
    item.append(button);
    return item;
  }));
  roomsEmpty.hidden = rooms.length > 0;
}

async function loadRooms() {
  try {
    const response = await fetch("/rooms", { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    rooms = (await response.json()).results;
  } catch {
    return; // offline: the form still works without the list
  }
  drawRooms();
}

roomList.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-room]");
  if (!button) return;
  fields.room.input.value = button.dataset.room;
  showFieldError(fields.room.error, "");
  focusNextStep();
});

form.addEventListener("submit", (event) => {
  let firstBad = null;
  for (const field of [fields.room, fields.name]) {
    const error = validateField(field.input, field.max);
    showFieldError(field.error, error);
    if (error && !firstBad) firstBad = field;
  }
  if (firstBad) {
    event.preventDefault();
    firstBad.input.focus();
    return;
  }
  for (const field of Object.values(fields)) field.input.value = field.input.value.trim();
  try {
    localStorage.setItem(NICKNAME_KEY, fields.name.input.value);
  } catch {
    // not remembered; fine
  }
});

try {
  if (!fields.name.input.value) fields.name.input.value = localStorage.getItem(NICKNAME_KEY) || "";
} catch {
  // no storage
}
if (!showServerError()) focusNextStep();
onLanguageChange(drawRooms);
loadRooms();
