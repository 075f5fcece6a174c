// Small helpers shared by the pages' forms: the page's settings from the server,
// and the field checks that run before anything is sent.
import { onLanguageChange, plural, t } from "./i18n.js";

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

/**
 * A visible "N characters left" under `input` once it is near `max` (the last
 * tenth, at least 10), tied to the input with aria-describedby. Counts what the
 * field's maxlength counts. Programmatic changes say so with a "counted" event.
 */
export function attachCounter(input, max) {
  if (!input || !max) return;
  const counter = document.createElement("p");
  counter.className = "counter";
  counter.id = `${input.id}-count`;
  counter.hidden = true;
  input.after(counter);
  const described = input.getAttribute("aria-describedby");
  input.setAttribute("aria-describedby", described ? `${described} ${counter.id}` : counter.id);
  const near = Math.max(10, Math.floor(max / 10));
  const draw = () => {
    const left = max - input.value.length;
    counter.hidden = left > near;
    counter.textContent = counter.hidden ? "" : plural("count.left", left);
    counter.classList.toggle("is-last", left <= near / 4);
  };
  input.addEventListener("input", draw);
  input.addEventListener("counted", draw);
  onLanguageChange(draw);
}
