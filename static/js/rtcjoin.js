// Wires /rtcjoin: checks the fields before going to /chat, and shows the reason
// a join failed (kept by chat.js in sessionStorage) next to the field it is about.
import { fieldOfError, readSettings, validateField } from "./forms.js";
import { showFieldError } from "./view.js";

const NICKNAME_KEY = "comongus.nickname";
const JOIN_ERROR_KEY = "comongus.joinError";

const settings = readSettings();
const form = document.getElementById("join-form");
const fields = {
  name: { input: document.getElementById("name"), error: document.getElementById("name-error"), max: settings.maxName },
  room: { input: document.getElementById("room"), error: document.getElementById("room-error"), max: settings.maxRoom },
};

function showServerError() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(JOIN_ERROR_KEY) || "null");
    sessionStorage.removeItem(JOIN_ERROR_KEY);
  } catch {
    saved = null;
  }
  if (!saved || !saved.error) return;
  const field = fields[saved.field] || fields[fieldOfError(saved.error, ["room", "name"], "name")];
  showFieldError(field.error, saved.error);
  field.input.focus();
  field.input.select();
}

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
showServerError();
