// Small helpers shared by the pages' forms: the page's settings from the server,
// and the field checks that run before anything is sent.
import { t } from "./i18n.js";

/** The JSON the server put in <script type="application/json" id="page-settings">. */
export function readSettings() {
  const block = document.getElementById("page-settings");
  return block ? JSON.parse(block.textContent) : {};
}

/** "" when `input` holds 1..max characters (after trimming), else what is wrong. */
export function validateField(input, max) {
  const value = input.value.trim();
  if (!value) return t("field.required");
  if (max && [...value].length > max) return t("field.tooLong", { max });
  return "";
}

/**
 * Which of `fields` a server error is about. The server's reasons start with the
 * field's name ("room is too long: ...", "username is required."); anything else
 * (e.g. "The name 'Ann' is taken in this room.") belongs to `fallback`.
 */
export function fieldOfError(reason, fields, fallback) {
  const lower = String(reason).toLowerCase();
  return fields.find((field) => lower.startsWith(`${field.toLowerCase()} `)) || fallback;
}
