// The owner's moderation controls in the chat panel, shown only while this page
// chats as the host: a menu on each person in the online list (ban from this room
// or from every room, for a while) and the room's lock and slow mode. They call the
// owner's REST API (client.js); what follows (the person removed, `roomSettings`)
// comes back over the socket like any other change, so the page draws it once.
import { banName, putRoomSettings } from "./client.js";
import { codeText, locale, t } from "./i18n.js";
import * as view from "./view.js";

const $ = (id) => document.getElementById(id);
const dom = {
  tools: $("host-tools"),
  settingsToggle: $("room-settings-toggle"),
  settings: $("room-settings"),
  locked: $("room-locked"),
  slow: $("room-slow"),
  actions: $("person-actions"),
  actionsTitle: $("person-actions-title"),
  minutes: $("ban-minutes"),
  close: $("person-actions-close"),
  status: $("host-tools-status"),
  people: $("people"),
};

let room = null; // the room this page chats in as the host; null: no controls
let target = null; // the name whose menu is open
let drawStatus = () => ""; // the last outcome, redrawn in another language

/** Show the controls: this page chats in `roomName` as the host. */
export function enable(roomName) {
  room = roomName;
  dom.tools.hidden = false;
}

/** Take them away (the panel left the room, or joins as someone else). */
export function disable() {
  room = null;
  target = null;
  dom.tools.hidden = true;
  dom.actions.hidden = true;
  toggleSettings(false);
  say(() => "");
}

export function enabled() {
  return room !== null;
}

/** The menu button on a person's entry in the list (never on the host's own). */
export function decoratePerson(item, user) {
  if (!enabled() || user.host) return;
  const button = view.el("button", "person-menu");
  button.type = "button";
  button.dataset.menuFor = user.name;
  button.setAttribute("aria-controls", "person-actions");
  button.setAttribute("aria-expanded", String(target === user.name && !dom.actions.hidden));
  button.setAttribute("aria-label", t("hostTools.personMenu", { name: user.name }));
  const dots = view.el("span", null, "⋯");
  dots.setAttribute("aria-hidden", "true");
  button.append(dots);
  item.append(button);
}

/** The room's settings as the server says they are now. */
export function showSettings({ locked, slowModeSeconds }) {
  dom.locked.checked = Boolean(locked);
  const seconds = String(Number(slowModeSeconds) || 0);
  if (![...dom.slow.options].some((option) => option.value === seconds)) {
    // Set elsewhere (the REST API) to a value the list does not offer.
    const option = view.el("option", null, t("hostTools.slowOther", { seconds }));
    option.value = seconds;
    option.dataset.other = "true";
    dom.slow.append(option);
  }
  dom.slow.value = seconds;
}

/** Redraw what is not a data-i18n text: the menus' names and the last outcome. */
export function refreshLanguage() {
  for (const button of dom.people.querySelectorAll("button[data-menu-for]")) {
    button.setAttribute("aria-label", t("hostTools.personMenu", { name: button.dataset.menuFor }));
  }
  for (const option of dom.slow.querySelectorAll("option[data-other]")) {
    option.textContent = t("hostTools.slowOther", { seconds: option.value });
  }
  if (target !== null) dom.actionsTitle.textContent = t("hostTools.personTitle", { name: target });
  dom.status.textContent = drawStatus();
}

/** The server refused (or did not answer) the host's Delete: say why in the panel. */
export function deleteRefused(refusal) {
  say(refusal ? () => codeText(refusal.code, refusal.params, refusal.message, view.codeExtras)
    : () => t("hostTools.unreachable"));
}

function say(draw) {
  drawStatus = draw;
  dom.status.textContent = draw();
}

/** A refusal in the reader's words, from its code; the server's own text if unknown. */
function failed(error) {
  if (!error.status) return () => t("hostTools.unreachable");
  return () => codeText(error.code, error.params, error.message, view.codeExtras);
}

// ------------------------------------------------------------ a person's menu

function menuButton(name) {
  return [...dom.people.querySelectorAll("button[data-menu-for]")]
    .find((button) => button.dataset.menuFor === name) || null;
}

function openMenu(name) {
  if (target !== null && menuButton(target)) menuButton(target).setAttribute("aria-expanded", "false");
  target = name;
  dom.actionsTitle.textContent = t("hostTools.personTitle", { name });
  dom.actions.hidden = false;
  menuButton(name).setAttribute("aria-expanded", "true");
  toggleSettings(false);
  dom.minutes.focus();
}

function closeMenu() {
  if (target === null) return;
  const button = menuButton(target);
  target = null;
  dom.actions.hidden = true;
  if (button) {
    button.setAttribute("aria-expanded", "false");
    button.focus();
  } else {
    $("log-scroll").focus(); // the person left: the focus goes back to the log
  }
}

function onPeopleClick(event) {
  const button = event.target.closest("button[data-menu-for]");
  if (!button || !enabled()) return;
  if (target === button.dataset.menuFor && !dom.actions.hidden) closeMenu();
  else openMenu(button.dataset.menuFor);
}

async function onBan(event) {
  const button = event.target.closest("button[data-ban]");
  if (!button || target === null || !enabled()) return;
  const name = target;
  const everyRoom = button.dataset.ban === "all";
  const minutes = Number(dom.minutes.value);
  button.disabled = true;
  try {
    const ban = await banName({ name, room: everyRoom ? null : room, minutes });
    const until = new Date(ban.expires);
    const key = everyRoom ? "hostTools.bannedAll" : "hostTools.bannedRoom";
    const where = room;
    say(() => t(key, {
      name, room: where,
      until: new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" }).format(until),
    }));
  } catch (error) {
    say(failed(error));
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------ the room's settings

function toggleSettings(open) {
  dom.settings.hidden = !open;
  dom.settingsToggle.setAttribute("aria-expanded", String(open));
}

async function onSettingsSubmit(event) {
  event.preventDefault();
  if (!enabled()) return;
  const submit = dom.settings.querySelector("button[type=submit]");
  submit.disabled = true;
  try {
    showSettings(await putRoomSettings(room, {
      locked: dom.locked.checked, slowModeSeconds: Number(dom.slow.value),
    }));
    say(() => t("hostTools.saved"));
  } catch (error) {
    say(failed(error));
  } finally {
    submit.disabled = false;
  }
}

function onKeydown(event) {
  if (event.key !== "Escape") return;
  if (!dom.actions.hidden && dom.actions.contains(event.target)) {
    event.stopPropagation();
    closeMenu();
  } else if (!dom.settings.hidden && dom.settings.contains(event.target)) {
    event.stopPropagation();
    toggleSettings(false);
    dom.settingsToggle.focus();
  }
}

dom.people.addEventListener("click", onPeopleClick);
dom.actions.addEventListener("click", onBan);
dom.close.addEventListener("click", closeMenu);
dom.settingsToggle.addEventListener("click", () => {
  const open = dom.settings.hidden;
  toggleSettings(open);
  if (open) {
    dom.actions.hidden = true;
    closeMenuQuietly();
    dom.locked.focus();
  }
});
dom.settings.addEventListener("submit", onSettingsSubmit);
dom.tools.addEventListener("keydown", onKeydown);

/** The person's menu gives way to the settings, without taking the focus. */
function closeMenuQuietly() {
  if (target === null) return;
  const button = menuButton(target);
  if (button) button.setAttribute("aria-expanded", "false");
  target = null;
}
